import { MerkleLog1764300000000 } from './1764300000000-merkle-log';
import { AuditQueries1764400000000 } from './1764400000000-audit-queries';
import { AuditRetention1764500000000 } from './1764500000000-audit-retention';

export const AUDIT_LOG_MIGRATIONS = [
  MerkleLog1764300000000,
  AuditQueries1764400000000,
  AuditRetention1764500000000,
];
