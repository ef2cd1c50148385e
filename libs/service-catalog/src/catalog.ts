import { API_MANIFEST } from '@veil/api/manifest';
import { AUDIT_LOG_MANIFEST } from '@veil/audit-log/manifest';
import { DSAR_MANIFEST } from '@veil/dsar/manifest';
import { INGEST_MANIFEST } from '@veil/ingest/manifest';
import { checkServiceCatalog, deriveServiceEnvironment, type ServiceManifest } from '@veil/platform/service';
import { RETENTION_MANIFEST } from '@veil/retention/manifest';
import { VAULT_MANIFEST } from '@veil/vault/manifest';

/**
 * Veil's deployable services, as their manifests declare them. Tools and the test harness start them
 * from this list. It lives apart from the platform, which may not import services (module
 * boundaries) and derives each environment from whatever manifests it is given.
 */
export const SERVICE_CATALOG: readonly ServiceManifest[] = checkServiceCatalog([
  API_MANIFEST,
  INGEST_MANIFEST,
  VAULT_MANIFEST,
  RETENTION_MANIFEST,
  DSAR_MANIFEST,
  AUDIT_LOG_MANIFEST,
]);

export function serviceEntry(name: string): ServiceManifest {
  const entry = SERVICE_CATALOG.find((s) => s.name === name);
  if (!entry) throw new Error(`unknown service ${name}`);
  return entry;
}

/**
 * The environment a service process gets from the infrastructure settings (KAFKA_BROKERS,
 * DATABASE_URL as the admin connection, KMS_ENDPOINT, AWS_REGION): its own role and schema, and the
 * credentials and URLs of the internal APIs it serves and calls.
 */
export function serviceEnvironment(
  entry: ServiceManifest,
  infra: NodeJS.ProcessEnv,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return deriveServiceEnvironment(entry, SERVICE_CATALOG, infra, overrides);
}
