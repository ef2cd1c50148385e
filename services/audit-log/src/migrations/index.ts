import { MerkleLog1764300000000 } from './1764300000000-merkle-log';

export const AUDIT_LOG_MIGRATIONS = [MerkleLog1764300000000];
