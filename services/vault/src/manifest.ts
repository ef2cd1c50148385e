import { VaultApi } from '@veil/contracts';
import type { ServiceManifest } from '@veil/platform/service';

import { VAULT_MIGRATIONS } from './migrations';

/** The only holder of PII and data keys. */
export const VAULT_MANIFEST: ServiceManifest = {
  name: 'vault',
  owns: 'the only holder of PII and data keys: encrypt, reveal and look up (audited), redact for good, rotate',
  schema: 'vault',
  port: 3002,
  needsKms: true,
  // VAULT_TOKEN_INGEST, VAULT_TOKEN_API here; each caller reads its own as VAULT_TOKEN
  serves: [{ api: VaultApi, callerTokens: 'VAULT_TOKEN_{CALLER}', token: 'VAULT_TOKEN', url: 'VAULT_URL' }],
  // checks the access grants the customer API signs
  sharedSecrets: [{ name: 'VAULT_GRANT_KEY', kind: 'key' }],
  migrations: VAULT_MIGRATIONS,
};
