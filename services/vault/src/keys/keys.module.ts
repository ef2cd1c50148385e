import { type DynamicModule, Module } from '@nestjs/common';
import { KeyCache, KmsKeyService, KMSClient } from '@veil/platform/crypto';
import { MetricsService } from '@veil/platform/observability';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';

import type { VaultConfig } from '../config';
import { OrganizationKeyring } from './organization-keyring';

const DAY_MS = 24 * 60 * 60 * 1000;

@Module({})
export class KeysModule {
  static register(config: VaultConfig): DynamicModule {
    return {
      module: KeysModule,
      providers: [
        {
          provide: KmsKeyService,
          inject: [KMSClient, MetricsService],
          useFactory: (client: KMSClient, metrics: MetricsService) => {
            const kms = new KmsKeyService(client, config.KMS_DATA_KEY_ALIAS);
            // KMS calls should grow with organizations x rotations, not with inquiries: watch it.
            new Gauge({
              name: 'veil_kms_calls',
              help: 'KMS GenerateDataKey and Decrypt calls made by this process since it started.',
              registers: [metrics.registry],
              collect() {
                this.set(kms.calls);
              },
            });
            return kms;
          },
        },
        {
          provide: KeyCache,
          useFactory: () =>
            new KeyCache({
              maxAgeMs: config.VAULT_KEY_CACHE_MAX_AGE_MS,
              maxUses: config.VAULT_KEY_CACHE_MAX_USES,
            }),
        },
        {
          provide: OrganizationKeyring,
          inject: [DataSource, KmsKeyService, KeyCache],
          useFactory: (dataSource: DataSource, kms: KmsKeyService, cache: KeyCache) =>
            new OrganizationKeyring(dataSource, kms, cache, {
              maxEncryptions: config.VAULT_KEK_MAX_ENCRYPTIONS,
              maxAgeMs: config.VAULT_KEK_MAX_AGE_DAYS * DAY_MS,
              reservationBlock: config.VAULT_KEK_RESERVATION_BLOCK,
            }),
        },
      ],
      exports: [OrganizationKeyring, KmsKeyService],
    };
  }
}
