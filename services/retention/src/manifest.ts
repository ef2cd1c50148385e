import { RetentionApi, VaultApi } from '@veil/contracts';
import type { ServiceManifest } from '@veil/platform/service';

import { RETENTION_MIGRATIONS } from './migrations';

/** Retention policies and the redactions they schedule. */
export const RETENTION_MANIFEST: ServiceManifest = {
  name: 'retention',
  owns: 'retention policies: plans every inquiry, requests the redactions that fall due, previews them',
  schema: 'retention',
  port: 3003,
  needsKms: false,
  // one caller (the customer API), one credential, of the same name on both sides
  serves: [
    {
      api: RetentionApi,
      callerTokens: 'RETENTION_INTERNAL_TOKEN',
      token: 'RETENTION_INTERNAL_TOKEN',
      url: 'RETENTION_URL',
    },
  ],
  calls: [VaultApi],
  migrations: RETENTION_MIGRATIONS,
};
