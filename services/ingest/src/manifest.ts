import { VaultApi } from '@veil/contracts';
import type { ServiceManifest } from '@veil/platform/service';

import { INGEST_MIGRATIONS } from './migrations';

/** Takes inquiries in (topic and HTTP intake) and hands their PII to the vault. */
export const INGEST_MANIFEST: ServiceManifest = {
  name: 'ingest',
  owns: 'the intake edge: validation, de-duplication, PII-free inquiry record',
  schema: 'ingest',
  port: 3001,
  needsKms: false,
  calls: [VaultApi],
  // the upstream systems' credential for POST /v1/inquiries
  secrets: [{ name: 'INGEST_INTAKE_TOKEN', kind: 'token' }],
  migrations: INGEST_MIGRATIONS,
};
