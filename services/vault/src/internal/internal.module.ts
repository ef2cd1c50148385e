import { type DynamicModule, Module } from '@nestjs/common';
import { CALLER_TOKENS } from '@veil/platform/service';

import { VAULT_CONFIG, type VaultConfig } from '../config';
import { GrantChecker } from '../grants/grant-checker';
import { KeysModule } from '../keys/keys.module';
import { LookupService } from '../lookup/lookup.service';
import { LedgerReconciler } from '../redaction/ledger-reconciler';
import { LegalHoldsService } from '../redaction/legal-holds.service';
import { RedactionAppliedConsumer } from '../redaction/redaction-applied.consumer';
import { RedactionRequestedConsumer } from '../redaction/redaction-requested.consumer';
import { RedactionStatusService } from '../redaction/redaction-status.service';
import { RedactionService } from '../redaction/redaction.service';
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
        {
          provide: CALLER_TOKENS,
          useValue: {
            api: config.VAULT_TOKEN_API,
            ingest: config.VAULT_TOKEN_INGEST,
            retention: config.VAULT_TOKEN_RETENTION,
          },
        },
        GrantChecker,
        LedgerReconciler,
        LegalHoldsService,
        LookupService,
        RedactionAppliedConsumer,
        RedactionRequestedConsumer,
        RedactionService,
        RedactionStatusService,
        RevealService,
        VaultStore,
      ],
    };
  }
}
