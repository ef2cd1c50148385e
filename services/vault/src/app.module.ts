import { type DynamicModule, Module } from '@nestjs/common';
import { KmsModule } from '@veil/platform/crypto';
import { serviceModules } from '@veil/platform/service';

import type { VaultConfig } from './config';
import { InternalModule } from './internal/internal.module';
import { VAULT_MIGRATIONS } from './migrations';

/** The only holder of PII and data keys: encrypts, reveals and looks up (audited), redacts (crypto-shredding, ledger), rotates keys. */
@Module({})
export class AppModule {
  static register(config: VaultConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...serviceModules({ service: 'vault', config, migrations: VAULT_MIGRATIONS }),
        KmsModule.forRoot({
          region: config.AWS_REGION,
          keyAlias: config.KMS_DATA_KEY_ALIAS,
          ...(config.KMS_ENDPOINT ? { endpoint: config.KMS_ENDPOINT } : {}),
        }),
        InternalModule.register(config),
      ],
    };
  }
}
