import { serviceDatabaseUrl } from '@veil/platform/database';

export interface ServiceEntry {
  name: string;
  /** PostgreSQL schema (and role veil_<schema>) the service owns. */
  schema: string;
  port: number;
  needsKms: boolean;
}

/** Veil's deployable services. Tools and the test harness start them from this list. */
export const SERVICE_CATALOG: readonly ServiceEntry[] = [
  { name: 'api', schema: 'api', port: 3000, needsKms: false },
  { name: 'ingest', schema: 'ingest', port: 3001, needsKms: false },
  { name: 'vault', schema: 'vault', port: 3002, needsKms: true },
  { name: 'retention', schema: 'retention', port: 3003, needsKms: false },
  { name: 'dsar', schema: 'dsar', port: 3004, needsKms: false },
  { name: 'audit-log', schema: 'audit_log', port: 3005, needsKms: true },
];

export function serviceEntry(name: string): ServiceEntry {
  const entry = SERVICE_CATALOG.find((s) => s.name === name);
  if (!entry) throw new Error(`unknown service ${name}`);
  return entry;
}

/** Local-stack password of a service's database role; override with VEIL_DB_PASSWORD_<SCHEMA>. */
export function serviceDatabasePassword(entry: ServiceEntry, env: NodeJS.ProcessEnv = process.env): string {
  return env[`VEIL_DB_PASSWORD_${entry.schema.toUpperCase()}`] ?? `veil-local-${entry.schema}`;
}

/**
 * The environment a service process gets from the infrastructure settings (KAFKA_BROKERS,
 * DATABASE_URL as the admin connection, KMS_ENDPOINT, AWS_REGION): its own role and schema.
 */
export function serviceEnvironment(
  entry: ServiceEntry,
  infra: NodeJS.ProcessEnv,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_BROKERS: required(infra, 'KAFKA_BROKERS'),
    DATABASE_URL: serviceDatabaseUrl(required(infra, 'DATABASE_URL'), {
      schema: entry.schema,
      password: serviceDatabasePassword(entry, infra),
    }),
    DATABASE_SCHEMA: entry.schema,
    PORT: String(entry.port),
    LOG_LEVEL: infra.LOG_LEVEL ?? 'log',
  };
  // Internal service-to-service credentials and addresses. The local defaults are for the local
  // stack only; deployments set their own secrets in the environment.
  const vault = SERVICE_CATALOG.find((s) => s.name === 'vault')!;
  if (entry.name === 'vault' || entry.name === 'ingest' || entry.name === 'api') {
    env.VAULT_INTERNAL_TOKEN = infra.VAULT_INTERNAL_TOKEN ?? 'veil-local-vault-internal-token';
  }
  if (entry.name === 'ingest' || entry.name === 'api') {
    env.VAULT_URL = infra.VAULT_URL ?? `http://127.0.0.1:${vault.port}`;
  }
  if (entry.name === 'audit-log' || entry.name === 'api') {
    env.AUDIT_LOG_INTERNAL_TOKEN = infra.AUDIT_LOG_INTERNAL_TOKEN ?? 'veil-local-audit-log-internal-token';
  }
  if (entry.name === 'api') {
    const auditLog = SERVICE_CATALOG.find((s) => s.name === 'audit-log')!;
    env.AUDIT_LOG_URL = infra.AUDIT_LOG_URL ?? `http://127.0.0.1:${auditLog.port}`;
  }
  if (entry.name === 'ingest') {
    env.INGEST_INTAKE_TOKEN = infra.INGEST_INTAKE_TOKEN ?? 'veil-local-intake-token';
  }
  if (entry.needsKms) {
    env.AWS_REGION = required(infra, 'AWS_REGION');
    for (const key of [
      'KMS_ENDPOINT',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'KMS_DATA_KEY_ALIAS',
      'AUDIT_SIGNING_KEY_ALIAS',
    ]) {
      if (infra[key]) env[key] = infra[key]!;
    }
  }
  return { ...env, ...overrides };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: run "bash tools/infra.sh up" or set it`);
  return value;
}
