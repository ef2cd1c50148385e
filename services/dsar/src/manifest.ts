import type { ServiceManifest } from '@veil/platform/service';

/** Data subject access requests (planned): boots and answers health checks. */
export const DSAR_MANIFEST: ServiceManifest = {
  name: 'dsar',
  owns: 'skeleton (health only); planned (issue: DSAR): access and erasure requests',
  schema: 'dsar',
  port: 3004,
  needsKms: false,
};
