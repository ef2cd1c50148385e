import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { serviceModules } from '@veil/platform/service';

import { AccessModule } from './access/access.module';
import { AuditLogModule } from './audit-log/audit-log.module';
import type { ApiConfig } from './config';
import { DocsController } from './http/docs.controller';
import { MethodNotAllowedMiddleware } from './http/method-not-allowed.middleware';
import { VersionMiddleware } from './http/version.middleware';
import { InquiriesModule } from './inquiries/inquiries.module';
import { RedactionsModule } from './redactions/redactions.module';
import { RetentionModule } from './retention/retention.module';
import { API_MIGRATIONS } from './migrations';

/**
 * The customer API: one base URL for customers. Organizations and API keys (scopes, expiry,
 * revocation), tenant isolation (organization from the key, row-level security behind it), the
 * enabled-attributes allowlist, and the inquiry read model; reveals go through the vault.
 */
@Module({})
export class AppModule implements NestModule {
  static register(config: ApiConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules({ service: 'api', config, migrations: API_MIGRATIONS }),
        AccessModule.register(config),
        InquiriesModule,
        RedactionsModule,
        RetentionModule,
        AuditLogModule,
      ],
      controllers: [DocsController],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(MethodNotAllowedMiddleware, VersionMiddleware).forRoutes('v1/*path');
  }
}
