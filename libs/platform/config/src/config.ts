import { z } from 'zod';

/** Thrown by `parseConfig`; one human-readable line per bad variable, never the variable's value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const kafkaBrokers = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()))
  .pipe(z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'each broker must be host:port')).min(1));

const postgresUrl = z
  .string()
  .refine((s) => /^postgres(ql)?:\/\/.+/.test(s) && URL.canParse(s), 'must be a postgres:// URL');

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The largest KAFKA_MAX_EVENT_BYTES accepted. The consumers' cap on a decompressed record batch is
 * derived from it (8 records of this size, see @veil/platform/kafka), so raising it raises that too.
 */
export const KAFKA_MAX_EVENT_BYTES_LIMIT = 8 * 1024 * 1024;

const SECRETS = new WeakSet<z.ZodType>();

/** Marks a variable as a secret: outside local mode it must be set, and not to a well-known local default. */
export function secret<T extends z.ZodType>(schema: T): T {
  SECRETS.add(schema);
  return schema;
}

/**
 * The local stack's credentials are printed in the README and derived from `veil-local-…`: fine on
 * a developer's loopback stack, never anywhere else.
 */
export function isWellKnownLocalSecret(value: string): boolean {
  if (value.startsWith('veil-local-') || value === 'local-kms') return true;
  return (
    /^[A-Za-z0-9+/]+={0,2}$/.test(value) &&
    Buffer.from(value, 'base64').toString('latin1').startsWith('veil-local-')
  );
}

/** Variables every Veil service reads. Each service extends this with its own. */
export const baseConfigSchema = z.object({
  /**
   * `local`: the developer stack of `npm start` / `npm test` (tools/infra.sh writes it), where the
   * well-known local credentials are accepted. Anything else is treated as production: every secret
   * must be set to a value of its own, or the service refuses to start.
   */
  VEIL_MODE: z.enum(['local', 'production']).default('production'),
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['verbose', 'debug', 'log', 'warn', 'error']).default('log'),
  HTTP_HOST: z.string().default('127.0.0.1'),
  /**
   * The management listener (detailed health, metrics), apart from the main port: bind it where
   * only operators and the platform reach it. 0 picks a free port (logged at boot).
   */
  MANAGEMENT_HOST: z.string().default('127.0.0.1'),
  MANAGEMENT_PORT: port.default(9090),
  KAFKA_BROKERS: kafkaBrokers,
  KAFKA_CLIENT_ID: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  /**
   * How the service reaches the brokers: SASL (SCRAM) over TLS unless told otherwise; the local
   * stack and tests use it too. `plaintext` only for a broker that accepts nothing else.
   */
  KAFKA_SECURITY_PROTOCOL: z.enum(['plaintext', 'ssl', 'sasl_ssl']).default('sasl_ssl'),
  KAFKA_SASL_MECHANISM: z.enum(['scram-sha-256', 'scram-sha-512']).default('scram-sha-512'),
  KAFKA_SASL_USERNAME: z.string().min(1).max(256).optional(),
  KAFKA_SASL_PASSWORD: secret(z.string().min(1).max(1024).optional()),
  /** PEM file of the CA that signs the brokers' certificates (the system's CAs when unset). */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  /** Records larger than this are dead-lettered unread (reason payload_too_large). */
  KAFKA_MAX_EVENT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(KAFKA_MAX_EVENT_BYTES_LIMIT)
    .default(1024 * 1024),
  /** How long the group waits for a silent consumer before rebalancing its partitions away. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  DATABASE_URL: secret(postgresUrl),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase SQL identifier'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).default(60_000),
  HTTP_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(25_000),
});

export const kmsConfigSchema = z.object({
  KMS_ENDPOINT: z.url().optional().describe('Unset means real AWS KMS in AWS_REGION.'),
  AWS_REGION: z.string().min(1),
  KMS_DATA_KEY_ALIAS: z
    .string()
    .regex(/^alias\/[A-Za-z0-9/_-]+$/)
    .default('alias/veil-data'),
});

export const httpPort = (fallback: number) => port.default(fallback);

/** A bearer credential between services (or of an upstream system): a secret of at least 16 characters. */
export const serviceToken = () => secret(z.string().min(16, 'must be at least 16 characters'));

/** A key for HMAC-signed access grants: base64 of at least 32 random bytes. */
export const grantKeySchema = secret(
  z
    .string()
    .refine(
      (s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length >= 32,
      'must be base64 of at least 32 bytes',
    ),
);

/** Validates `env` against `schema`, collecting every problem instead of stopping at the first. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => {
        const variable = issue.path.length ? String(issue.path[0]) : '(environment)';
        const missing = issue.code === 'invalid_type' && env[variable] === undefined;
        return missing ? `${variable}: required but not set` : `${variable}: ${issue.message}`;
      });
  if (env.VEIL_MODE !== 'local') problems.push(...wellKnownSecrets(schema, env));
  if (result.success) problems.push(...kafkaCredentialProblems(result.data));
  if (result.success && problems.length === 0) return result.data;
  throw new ConfigError([...new Set(problems)].sort());
}

/** SASL needs a user and a password; neither has a default. */
function kafkaCredentialProblems(config: unknown): string[] {
  const c = config as {
    KAFKA_SECURITY_PROTOCOL?: string;
    KAFKA_SASL_USERNAME?: string;
    KAFKA_SASL_PASSWORD?: string;
  };
  if (c.KAFKA_SECURITY_PROTOCOL !== 'sasl_ssl') return [];
  return [
    ...(c.KAFKA_SASL_USERNAME ? [] : ['KAFKA_SASL_USERNAME: required with KAFKA_SECURITY_PROTOCOL=sasl_ssl']),
    ...(c.KAFKA_SASL_PASSWORD ? [] : ['KAFKA_SASL_PASSWORD: required with KAFKA_SECURITY_PROTOCOL=sasl_ssl']),
  ];
}

/** Secrets set to a well-known local default (outside local mode, each one is a problem). */
function wellKnownSecrets(schema: z.ZodType, env: NodeJS.ProcessEnv): string[] {
  const names =
    schema instanceof z.ZodObject
      ? Object.entries(schema.shape as Record<string, z.ZodType>)
          .filter(([, field]) => SECRETS.has(field))
          .map(([name]) => name)
      : [];
  // Read by the AWS SDK itself, not by the schema.
  names.push('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  const problems: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    let secretPart = value;
    if (name === 'DATABASE_URL' && URL.canParse(value))
      secretPart = decodeURIComponent(new URL(value).password);
    if (isWellKnownLocalSecret(secretPart))
      problems.push(
        `${name}: is a well-known local-stack default; set a secret of your own (VEIL_MODE=local accepts it on a developer stack only)`,
      );
  }
  return problems;
}

/**
 * For service entry points: validate or exit non-zero with one line per bad variable on stderr.
 * Runs before logging exists, so it writes plain lines.
 */
export function loadConfigOrExit<S extends z.ZodType>(
  service: string,
  schema: S,
  env = process.env,
): z.infer<S> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) process.stderr.write(`${service}: config: ${problem}\n`);
    process.exit(78); // EX_CONFIG
  }
}
