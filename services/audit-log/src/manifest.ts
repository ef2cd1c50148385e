import { AuditLogApi } from '@veil/contracts';
import type { ServiceManifest } from '@veil/platform/service';

import { AUDIT_LOG_MIGRATIONS } from './migrations';

/** The tamper-evident audit log. */
export const AUDIT_LOG_MANIFEST: ServiceManifest = {
  name: 'audit-log',
  owns: 'append-only, tamper-evident audit log and its verification',
  schema: 'audit_log',
  port: 3005,
  needsKms: true,
  // one caller (the customer API), one credential, of the same name on both sides
  serves: [
    {
      api: AuditLogApi,
      callerTokens: 'AUDIT_LOG_INTERNAL_TOKEN',
      token: 'AUDIT_LOG_INTERNAL_TOKEN',
      url: 'AUDIT_LOG_URL',
    },
  ],
  // the KMS key that signs checkpoints (default alias/veil-audit-signing)
  settings: ['AUDIT_SIGNING_KEY_ALIAS'],
  migrations: AUDIT_LOG_MIGRATIONS,
};
