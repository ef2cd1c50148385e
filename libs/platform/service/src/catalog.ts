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

/**
 * Password of a service's database role: VEIL_DB_PASSWORD_<SCHEMA>, or on the local stack
 * (VEIL_MODE=local) the well-known local one.
 */
export function serviceDatabasePassword(entry: ServiceEntry, env: NodeJS.ProcessEnv = process.env): string {
  const password = env[`VEIL_DB_PASSWORD_${entry.schema.toUpperCase()}`];
  if (password) return password;
  if (env.VEIL_MODE === 'local') return `veil-local-${entry.schema}`;
  throw new Error(
    `VEIL_DB_PASSWORD_${entry.schema.toUpperCase()} is not set (required outside VEIL_MODE=local)`,
  );
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
    // Detailed health and metrics, apart from the main port: 9000 + the service's offset.
    MANAGEMENT_PORT: String(entry.port + 6000),
    LOG_LEVEL: infra.LOG_LEVEL ?? 'log',
  };
  if (infra.VEIL_MODE) env.VEIL_MODE = infra.VEIL_MODE;
  // Kafka: the infrastructure's protocol and CA; the service's own principal (veil-<service>).
  for (const key of ['KAFKA_SECURITY_PROTOCOL', 'KAFKA_SASL_MECHANISM', 'KAFKA_SSL_CA_FILE'])
    if (infra[key]) env[key] = infra[key]!;
  const kafkaPassword = infra[`VEIL_KAFKA_PASSWORD_${entry.schema.toUpperCase()}`];
  if (kafkaPassword) {
    env.KAFKA_SASL_USERNAME = `veil-${entry.name}`;
    env.KAFKA_SASL_PASSWORD = kafkaPassword;
  }
  // Service-to-service credentials: each caller its own. Outside local mode they come from the
  // environment only (a service refuses to start without them); the local stack has defaults.
  const local = infra.VEIL_MODE === 'local';
  const credential = (name: string): string | undefined =>
    infra[name] ?? (local ? `veil-local-${name.toLowerCase().replace(/_/g, '-')}` : undefined);
  const grantKey =
    infra.VAULT_GRANT_KEY ??
    (local ? Buffer.from('veil-local-vault-grant-key-for-the-local-stack').toString('base64') : undefined);
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) env[name] = value;
  };
  const vault = SERVICE_CATALOG.find((s) => s.name === 'vault')!;
  if (entry.name === 'vault') {
    set('VAULT_TOKEN_INGEST', credential('VAULT_TOKEN_INGEST'));
    set('VAULT_TOKEN_API', credential('VAULT_TOKEN_API'));
    set('VAULT_GRANT_KEY', grantKey);
  }
  if (entry.name === 'ingest') set('VAULT_TOKEN', credential('VAULT_TOKEN_INGEST'));
  if (entry.name === 'api') {
    set('VAULT_TOKEN', credential('VAULT_TOKEN_API'));
    set('VAULT_GRANT_KEY', grantKey);
  }
  if (entry.name === 'ingest' || entry.name === 'api') {
    env.VAULT_URL = infra.VAULT_URL ?? `http://127.0.0.1:${vault.port}`;
  }
  if (entry.name === 'audit-log' || entry.name === 'api') {
    set('AUDIT_LOG_INTERNAL_TOKEN', credential('AUDIT_LOG_INTERNAL_TOKEN'));
  }
  if (entry.name === 'api') {
    const auditLog = SERVICE_CATALOG.find((s) => s.name === 'audit-log')!;
    env.AUDIT_LOG_URL = infra.AUDIT_LOG_URL ?? `http://127.0.0.1:${auditLog.port}`;
  }
  if (entry.name === 'ingest') set('INGEST_INTAKE_TOKEN', credential('INGEST_INTAKE_TOKEN'));
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
