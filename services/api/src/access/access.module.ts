import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  ACCESS_GRANT_MINTER,
  ApiKeyGuard,
  ApiKeyRegistry,
  DENIAL_AUDITOR,
  grantKey,
  RATE_LIMIT_OPTIONS,
  RateLimiter,
} from '@veil/platform/auth';
import { HealthRegistry } from '@veil/platform/observability';

import { AuditEventWriter } from '../audit-events/audit-event-writer';
import { API_CONFIG, type ApiConfig } from '../config';
import { IdempotencyInterceptor } from '../http/idempotency.interceptor';
import { VaultClient } from '../vault-client/vault-client';
import { AccessRepository } from './access.repository';
import { ApiKeysController } from './api-keys.controller';
import { OrganizationController } from './organization.controller';
import { TenantDb } from './tenant-db';

@Injectable()
class KeyRegistryLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly registry: ApiKeyRegistry,
    private readonly health: HealthRegistry,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.registry.start();
    // A registry that stopped refreshing would miss revocations: not ready.
    this.health.register('api-keys', async () => {
      const limit = Math.max(5_000, this.config.API_KEY_REFRESH_MS * 5);
      if (this.registry.stalenessMs > limit)
        throw new Error(`API key registry not refreshed for ${this.registry.stalenessMs} ms`);
    });
  }

  onApplicationShutdown(): void {
    this.registry.stop();
  }
}

@Global()
@Module({})
export class AccessModule {
  static register(config: ApiConfig): DynamicModule {
    return {
      module: AccessModule,
      controllers: [OrganizationController, ApiKeysController],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: RATE_LIMIT_OPTIONS, useValue: { perSecond: config.API_RATE_LIMIT_PER_SECOND } },
        { provide: DENIAL_AUDITOR, useExisting: AuditEventWriter },
        {
          provide: ACCESS_GRANT_MINTER,
          useValue: { key: grantKey(config.VAULT_GRANT_KEY), ttlMs: config.VAULT_GRANT_TTL_MS },
        },
        {
          provide: ApiKeyRegistry,
          inject: [AccessRepository],
          useFactory: (source: AccessRepository) => new ApiKeyRegistry(source, config.API_KEY_REFRESH_MS),
        },
        AccessRepository,
        AuditEventWriter,
        ApiKeyGuard,
        IdempotencyInterceptor,
        KeyRegistryLifecycle,
        RateLimiter,
        TenantDb,
        VaultClient,
      ],
      exports: [
        ACCESS_GRANT_MINTER,
        API_CONFIG,
        RATE_LIMIT_OPTIONS,
        DENIAL_AUDITOR,
        AccessRepository,
        AuditEventWriter,
        ApiKeyGuard,
        ApiKeyRegistry,
        IdempotencyInterceptor,
        RateLimiter,
        TenantDb,
        VaultClient,
      ],
    };
  }
}
