/**
 * What operator tools and benchmarks may use of the audit log (`@veil/audit-log/operator`): the rest of
 * src/ is the service's own and may change without notice.
 */
export { CheckpointSigner } from './checkpoints/checkpoint-signer';
export { CheckpointStore } from './checkpoints/checkpoint-store';
export { Checkpointer } from './checkpoints/checkpointer.service';
export type { AuditLogConfig } from './config';
export { MerkleLogRepository } from './log/merkle-log.repository';
export { AUDIT_LOG_OWNER, secureAppendOnlyTables } from './migrations/append-only-owner';
export { type AuditLogAccess, openAuditLog } from './operator-access';
export { AuditQueryRepository } from './query/audit-query.repository';
export { ProofService } from './query/proof.service';
export { LogVerifier } from './verify/log-verifier';
