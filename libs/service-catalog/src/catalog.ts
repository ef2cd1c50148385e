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

/** Where the README's service table goes (`npm run docs` rewrites what is between them). */
export const SERVICE_TABLE_MARKERS = {
  begin:
    '<!-- service table: generated from the manifests by `npm run docs` -->\n<!-- prettier-ignore-start -->',
  end: '<!-- prettier-ignore-end -->',
} as const;

/** The README's table of services, from their manifests, so that it cannot drift from them. */
export function renderServiceTable(catalog: readonly ServiceManifest[] = SERVICE_CATALOG): string {
  const rows = [
    ['service', 'owns', 'port'],
    ...catalog.map((s) => [`\`${s.name}\``, s.owns, String(s.port)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

/** `readme` with its service table replaced by the rendering of the manifests. */
export function withServiceTable(
  readme: string,
  catalog: readonly ServiceManifest[] = SERVICE_CATALOG,
): string {
  const { begin, end } = SERVICE_TABLE_MARKERS;
  const from = readme.indexOf(begin);
  const to = readme.indexOf(end, from);
  if (from < 0 || to < 0) throw new Error('README.md has no service table markers');
  return `${readme.slice(0, from + begin.length)}\n${renderServiceTable(catalog)}\n${readme.slice(to)}`;
}
