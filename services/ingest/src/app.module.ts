import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { IngestConfig } from './config';

/** The intake edge: validates inquiry events, de-duplicates, hands PII to the vault, records the PII-free inquiry. */
@Module({})
export class AppModule {
  static register(config: IngestConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'ingest', config })],
    };
  }
}
