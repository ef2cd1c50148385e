import {
  baseConfigSchema,
  grantKeySchema,
  httpPort,
  kmsConfigSchema,
  serviceToken,
} from '@veil/platform/config';
import { z } from 'zod';

// NIST SP 800-38D: at most 2^32 AES-GCM encryptions with random 96-bit IVs under one key.
const GCM_HARD_LIMIT = 2 ** 32;

export const VaultConfigSchema = baseConfigSchema.extend(kmsConfigSchema.shape).extend({
  PORT: httpPort(3002),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('vault'),
  /** Each caller's own credential for the internal API; the contract says which operations each may use. */
  VAULT_TOKEN_INGEST: serviceToken(),
  VAULT_TOKEN_API: serviceToken(),
  VAULT_TOKEN_RETENTION: serviceToken(),
  /** Verifies the access grants the customer API mints (HMAC-SHA256 key, base64, at least 32 bytes). */
  VAULT_GRANT_KEY: grantKeySchema,
  /** Encryptions under one organization key before it rotates; kept well under the GCM limit. */
  VAULT_KEK_MAX_ENCRYPTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .max(GCM_HARD_LIMIT / 2, 'must stay well under 2^32 (NIST SP 800-38D); at most 2^31')
    .default(2 ** 30),
  VAULT_KEK_MAX_AGE_DAYS: z.coerce.number().min(1).max(3650).default(90),
  /** Uses reserved (and persisted) at a time against the budget above. */
  VAULT_KEK_RESERVATION_BLOCK: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  VAULT_KEY_CACHE_MAX_AGE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60 * 60 * 1000),
  /** 1 effectively disables the cache (every use goes to KMS); for benchmarks and drills. */
  VAULT_KEY_CACHE_MAX_USES: z.coerce.number().int().min(1).default(1_000_000),
  VAULT_MAX_BATCH_INQUIRIES: z.coerce.number().int().min(1).max(10_000).default(2_000),
});

export type VaultConfig = z.infer<typeof VaultConfigSchema>;

export const VAULT_CONFIG = Symbol('VAULT_CONFIG');
