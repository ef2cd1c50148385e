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

/** Variables every Veil service reads. Each service extends this with its own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['verbose', 'debug', 'log', 'warn', 'error']).default('log'),
  HTTP_HOST: z.string().default('127.0.0.1'),
  KAFKA_BROKERS: kafkaBrokers,
  KAFKA_CLIENT_ID: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  /** Records larger than this are dead-lettered unread (reason payload_too_large). */
  KAFKA_MAX_EVENT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(8 * 1024 * 1024)
    .default(1024 * 1024),
  /** How long the group waits for a silent consumer before rebalancing its partitions away. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  DATABASE_URL: postgresUrl,
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

/** Validates `env` against `schema`, collecting every problem instead of stopping at the first. */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.length ? String(issue.path[0]) : '(environment)';
    const missing = issue.code === 'invalid_type' && env[variable] === undefined;
    return missing ? `${variable}: required but not set` : `${variable}: ${issue.message}`;
  });
  throw new ConfigError([...new Set(problems)].sort());
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
