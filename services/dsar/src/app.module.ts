import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { DsarConfig } from './config';

/** Data-subject access and erasure requests: finds the subject's inquiries, assembles exports, orchestrates erasure. */
@Module({})
export class AppModule {
  static register(config: DsarConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'dsar', config })],
    };
  }
}
