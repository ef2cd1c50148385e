import { Body, Controller, type DynamicModule, Get, HttpCode, Module, Post, UseGuards } from '@nestjs/common';
import { AuditLogApi, type AuditLogPublicKey } from '@veil/contracts';
import { KMSClient } from '@veil/platform/crypto';
import { CALLER_TOKENS, CallerGuard, ServesOperation } from '@veil/platform/service';

import { CheckpointSigner } from '../checkpoints/checkpoint-signer';
import { Checkpointer } from '../checkpoints/checkpointer.service';
import { AUDIT_LOG_CONFIG, type AuditLogConfig } from '../config';
import { AuditQueryRepository } from '../query/audit-query.repository';
import { AuditLogInternalController } from '../query/internal.controller';
import { ProofService } from '../query/proof.service';
import { AuditEventsConsumer } from './audit-events.consumer';
import { MerkleLogRepository } from './merkle-log.repository';

/** The checkpoint signing key's public half: what an external verifier needs besides an export. */
@Controller('v1/audit-log')
class PublicKeyController {
  constructor(private readonly signer: CheckpointSigner) {}

  @Get('public-key')
  async publicKey(): Promise<AuditLogPublicKey> {
    const { keyId, pem } = await this.signer.publicKeyPem();
    return { keyId, algorithm: 'ECDSA_SHA_256', publicKeyPem: pem };
  }
}

/** The same, for the customer API (internal calls are POSTs with the caller's credential). */
@Controller()
@UseGuards(CallerGuard)
class InternalPublicKeyController extends PublicKeyController {
  @Post(AuditLogApi.operations.publicKey.path)
  @ServesOperation(AuditLogApi.operations.publicKey)
  @HttpCode(200)
  override publicKey(@Body() _body?: unknown): Promise<AuditLogPublicKey> {
    return super.publicKey();
  }
}

@Module({})
export class LogModule {
  static register(config: AuditLogConfig): DynamicModule {
    return {
      module: LogModule,
      controllers: [PublicKeyController, InternalPublicKeyController, AuditLogInternalController],
      providers: [
        { provide: AUDIT_LOG_CONFIG, useValue: config },
        { provide: CALLER_TOKENS, useValue: { api: config.AUDIT_LOG_INTERNAL_TOKEN } },
        {
          provide: CheckpointSigner,
          inject: [KMSClient],
          useFactory: (kms: KMSClient) => new CheckpointSigner(kms, config.AUDIT_SIGNING_KEY_ALIAS),
        },
        MerkleLogRepository,
        AuditEventsConsumer,
        Checkpointer,
        AuditQueryRepository,
        ProofService,
      ],
    };
  }
}
