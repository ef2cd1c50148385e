import type { ServiceManifest } from '@veil/platform/service';

/** Retention (planned): boots and answers health checks. */
export const RETENTION_MANIFEST: ServiceManifest = {
  name: 'retention',
  owns: 'skeleton (health only); planned (issue: redaction and retention): retention policies, legal holds',
  schema: 'retention',
  port: 3003,
  needsKms: false,
};
