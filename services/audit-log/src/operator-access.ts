import { createKmsClient } from '@veil/platform/crypto';
import { createServiceDataSource } from '@veil/platform/database';
import { deriveServiceEnvironment } from '@veil/platform/service';
import type { DataSource } from 'typeorm';

import { CheckpointSigner } from './checkpoints/checkpoint-signer';
import { AUDIT_LOG_MANIFEST } from './manifest';

export interface AuditLogAccess {
  dataSource: DataSource;
  signer: CheckpointSigner;
  close(): Promise<void>;
}

/**
 * The audit log as operator commands and benchmarks reach it: the service's own database role
 * (read and insert only) and its checkpoint signing key. Reads the infrastructure environment.
 */
export async function openAuditLog(applicationName: string, poolSize = 2): Promise<AuditLogAccess> {
  // Its own database role and KMS settings: nothing of another service's, so no catalog.
  const env = deriveServiceEnvironment(AUDIT_LOG_MANIFEST, [AUDIT_LOG_MANIFEST], process.env);
  const dataSource = createServiceDataSource({
    url: env.DATABASE_URL!,
    schema: AUDIT_LOG_MANIFEST.schema,
    applicationName,
    poolSize,
  });
  await dataSource.initialize();
  const keyAlias = env.AUDIT_SIGNING_KEY_ALIAS ?? 'alias/veil-audit-signing';
  const kms = createKmsClient({
    region: env.AWS_REGION!,
    keyAlias,
    ...(env.KMS_ENDPOINT ? { endpoint: env.KMS_ENDPOINT } : {}),
  });
  return {
    dataSource,
    signer: new CheckpointSigner(kms, keyAlias),
    close: async () => {
      kms.destroy();
      await dataSource.destroy();
    },
  };
}
