import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { IngestConfig } from './config';
import { IntakeModule } from './intake/intake.module';
import { INGEST_MIGRATIONS } from './migrations';

/** The intake edge: validates inquiry events, de-duplicates, hands PII to the vault, records the PII-free inquiry. */
@Module({})
export class AppModule {
  static register(config: IngestConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules({ service: 'ingest', config, migrations: INGEST_MIGRATIONS }),
        IntakeModule.register(config),
      ],
    };
  }
}
