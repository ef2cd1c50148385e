import { type DynamicModule, Module } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import type { AuditLogConfig } from './config';

/** Appends every audit event to a tamper-evident log, verifies it and answers queries. */
@Module({})
export class AppModule {
  static register(config: AuditLogConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'audit-log', config })],
    };
  }
}
