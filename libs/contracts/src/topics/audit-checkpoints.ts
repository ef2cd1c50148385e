import { z } from 'zod';

import { defineEvent, defineTopic, retention } from '../contract';
import { Timestamp } from '../ids';

/**
 * Every signed checkpoint of the audit log, as it is made: a witness outside Veil's database
 * (an auditor's consumer, a second region) keeps them, and a log later rolled back or rewritten
 * can no longer match what was witnessed. Hashes and signatures only; no PII — but every chain's
 * name (so every organization id) and growth: a witness of Veil's whole log, not a customer feed.
 */
export const AuditCheckpointsTopic = defineTopic({
  name: 'audit.checkpoints',
  description: "Signed checkpoints of the audit log's chains, for external witnesses. Kept forever; no PII.",
  partitions: 1,
  retentionMs: retention.forever,
  cleanupPolicy: 'delete',
  carriesPii: false,
  mustDeliver: true,
  producers: ['audit-log'],
  consumers: ['witness'],
});

export const AuditCheckpointSignedV1 = z.strictObject({
  chain: z.string().min(1).max(200).describe('`org:<organization>` or `operator`.'),
  treeSize: z.number().int().min(1),
  rootHash: z
    .string()
    .regex(/^[a-f0-9]{64}$/)
    .describe('Hex SHA-256 Merkle tree root (RFC 9162).'),
  signedAt: Timestamp,
  keyId: z.string().min(1).max(2048),
  algorithm: z.literal('ECDSA_SHA_256'),
  signature: z.string().min(1).max(512).describe('Base64 DER signature of the checkpoint message.'),
});
export type AuditCheckpointSignedV1 = z.infer<typeof AuditCheckpointSignedV1>;

/**
 * The organization a checkpoint event is filed under: its chain's, or this reserved id for the
 * operator chain (no organization can be created with it).
 */
export const OPERATOR_CHAIN_OWNER = 'veil';

export const AuditCheckpointSigned = defineEvent<AuditCheckpointSignedV1>({
  topic: AuditCheckpointsTopic,
  eventType: 'audit.checkpoint.signed',
  eventVersion: 1,
  description:
    'A checkpoint (chain, tree size, root, time) signed with the KMS audit key; verify it with the published public key.',
  data: AuditCheckpointSignedV1,
  key: (data) => data.chain,
  example: {
    organizationId: 'org_acme',
    data: {
      chain: 'org:org_acme',
      treeSize: 1000,
      rootHash: 'a'.repeat(64),
      signedAt: '2026-11-26T03:00:00.000Z',
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      algorithm: 'ECDSA_SHA_256',
      signature: 'MEUCIQ…',
    },
  },
});
