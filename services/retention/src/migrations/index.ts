import { Retention1765200000000 } from './1765200000000-retention';

export const RETENTION_MIGRATIONS = [Retention1765200000000];
