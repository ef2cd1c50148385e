import { Controller, type DynamicModule, Get, Module } from '@nestjs/common';
import { KMSClient } from '@veil/platform/crypto';

import { CheckpointSigner } from '../checkpoints/checkpoint-signer';
import { Checkpointer } from '../checkpoints/checkpointer.service';
import { AUDIT_LOG_CONFIG, type AuditLogConfig } from '../config';
import { AuditEventsConsumer } from './audit-events.consumer';
import { MerkleLogRepository } from './merkle-log.repository';

/** The checkpoint signing key's public half: what an external verifier needs besides an export. */
@Controller('v1/audit-log')
class PublicKeyController {
  constructor(private readonly signer: CheckpointSigner) {}

  @Get('public-key')
  async publicKey(): Promise<{ keyId: string; algorithm: 'ECDSA_SHA_256'; publicKeyPem: string }> {
    const { keyId, pem } = await this.signer.publicKeyPem();
    return { keyId, algorithm: 'ECDSA_SHA_256', publicKeyPem: pem };
  }
}

@Module({})
export class LogModule {
  static register(config: AuditLogConfig): DynamicModule {
    return {
      module: LogModule,
      controllers: [PublicKeyController],
      providers: [
        { provide: AUDIT_LOG_CONFIG, useValue: config },
        {
          provide: CheckpointSigner,
          inject: [KMSClient],
          useFactory: (kms: KMSClient) => new CheckpointSigner(kms, config.AUDIT_SIGNING_KEY_ALIAS),
        },
        MerkleLogRepository,
        AuditEventsConsumer,
        Checkpointer,
      ],
    };
  }
}
