import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { DsarConfig } from './config';

/** A skeleton (health endpoints only). Planned: data-subject access and erasure requests. */
@Module({})
export class AppModule {
  static register(config: DsarConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'dsar', config })],
    };
  }
}
