import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { RetentionConfig } from './config';

/** A skeleton (health endpoints only). Planned: retention policies, legal holds, scheduled redactions. */
@Module({})
export class AppModule {
  static register(config: RetentionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'retention', config })],
    };
  }
}
