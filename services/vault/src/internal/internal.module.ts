import { type DynamicModule, Module } from '@nestjs/common';
import { SERVICE_TOKEN } from '@veil/platform/service';

import { VAULT_CONFIG, type VaultConfig } from '../config';
import { KeysModule } from '../keys/keys.module';
import { RevealService } from '../reveal/reveal.service';
import { VaultStore } from '../vaulting/vault-store.service';
import { InternalController } from './internal.controller';

@Module({})
export class InternalModule {
  static register(config: VaultConfig): DynamicModule {
    return {
      module: InternalModule,
      imports: [KeysModule.register(config)],
      controllers: [InternalController],
      providers: [
        { provide: VAULT_CONFIG, useValue: config },
        { provide: SERVICE_TOKEN, useValue: config.VAULT_INTERNAL_TOKEN },
        RevealService,
        VaultStore,
      ],
    };
  }
}
