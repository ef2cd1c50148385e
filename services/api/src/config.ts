import { baseConfigSchema, grantKeySchema, httpPort, serviceToken } from '@veil/platform/config';
import { z } from 'zod';

export const ApiConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3000),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('api'),
  VAULT_URL: z.url(),
  /** The api's own credential for the vault's internal API (reveal and lookup only). */
  VAULT_TOKEN: serviceToken(),
  /** Signs the access grants that bind each vault call to the verified key and request (shared with the vault). */
  VAULT_GRANT_KEY: grantKeySchema,
  /** A grant's lifetime: one request, including its vault call and retries. */
  VAULT_GRANT_TTL_MS: z.coerce.number().int().min(1_000).max(300_000).default(60_000),
  VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Reveal calls to the vault in flight at once; requests arriving meanwhile share the next call. */
  VAULT_REVEAL_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(64).default(4),
  VAULT_REVEAL_MAX_BATCH: z.coerce.number().int().min(1).max(200).default(50),
  RETENTION_URL: z.url(),
  RETENTION_INTERNAL_TOKEN: serviceToken(),
  RETENTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  AUDIT_LOG_URL: z.url(),
  AUDIT_LOG_INTERNAL_TOKEN: serviceToken(),
  AUDIT_LOG_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Sustained requests per second per API key (also the burst). */
  API_RATE_LIMIT_PER_SECOND: z.coerce.number().int().min(1).default(100),
  /** How often the in-memory key registry picks up new, revoked and expired keys. */
  API_KEY_REFRESH_MS: z.coerce.number().int().min(100).max(5_000).default(1_000),
  /**
   * Test builds only (NODE_ENV=test): drop the application's organization filter from queries, to
   * prove that row-level security alone still isolates tenants. Refused in any other environment.
   */
  API_TEST_DISABLE_TENANT_FILTER: z
    .enum(['0', '1'])
    .default('0')
    .transform((v) => v === '1'),
});

export type ApiConfig = z.infer<typeof ApiConfigSchema>;

export const API_CONFIG = Symbol('API_CONFIG');

export function validateApiConfig(config: ApiConfig): ApiConfig {
  if (config.API_TEST_DISABLE_TENANT_FILTER && config.NODE_ENV !== 'test') {
    throw new Error('API_TEST_DISABLE_TENANT_FILTER is only allowed with NODE_ENV=test');
  }
  return config;
}
