import { AuditLogApi, RetentionApi, VaultApi } from '@veil/contracts';
import type { ServiceManifest } from '@veil/platform/service';

import { API_MIGRATIONS } from './migrations';

/** The customer API: reveals and searches through the vault (with grants it signs), reads the audit log. */
export const API_MANIFEST: ServiceManifest = {
  name: 'api',
  owns: 'the customer API: organizations, API keys and scopes, the enabled-attributes allowlist, redaction requests, retention and legal holds (gateway)',
  schema: 'api',
  port: 3000,
  needsKms: false,
  calls: [VaultApi, AuditLogApi, RetentionApi],
  // signs the access grants the vault checks
  sharedSecrets: [{ name: 'VAULT_GRANT_KEY', kind: 'key' }],
  migrations: API_MIGRATIONS,
};
