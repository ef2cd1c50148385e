import { type DynamicModule, Module } from '@nestjs/common';
import { KmsModule } from '@veil/platform/crypto';
import { serviceModules } from '@veil/platform/service';

import type { AuditLogConfig } from './config';
import { LogModule } from './log/log.module';
import { AUDIT_LOG_MIGRATIONS } from './migrations';

/** Appends every audit event to a tamper-evident Merkle log and signs checkpoints of it with KMS. */
@Module({})
export class AppModule {
  static register(config: AuditLogConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules({ service: 'audit-log', config, migrations: AUDIT_LOG_MIGRATIONS }),
        KmsModule.forRoot({
          region: config.AWS_REGION,
          keyAlias: config.AUDIT_SIGNING_KEY_ALIAS,
          ...(config.KMS_ENDPOINT ? { endpoint: config.KMS_ENDPOINT } : {}),
        }),
        LogModule.register(config),
      ],
    };
  }
}
