import type { Type } from '@nestjs/common';

import { API_MIGRATIONS } from '../services/api/src/migrations';
import { AUDIT_LOG_MIGRATIONS } from '../services/audit-log/src/migrations';
import { INGEST_MIGRATIONS } from '../services/ingest/src/migrations';
import { VAULT_MIGRATIONS } from '../services/vault/src/migrations';

/** Each service's own migrations (the messaging tables come first, from the platform). */
export const SERVICE_MIGRATIONS: Record<string, Type<unknown>[]> = {
  api: API_MIGRATIONS,
  'audit-log': AUDIT_LOG_MIGRATIONS,
  ingest: INGEST_MIGRATIONS,
  vault: VAULT_MIGRATIONS,
};
