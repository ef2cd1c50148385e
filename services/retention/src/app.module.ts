import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { RetentionConfig } from './config';

/** Per-organization retention policies and legal holds; schedules redactions and tracks them to completion. */
@Module({})
export class AppModule {
  static register(config: RetentionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'retention', config })],
    };
  }
}
