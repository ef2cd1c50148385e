import { baseConfigSchema, httpPort, serviceToken } from '@veil/platform/config';
import { z } from 'zod';

export const RetentionConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3003),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('retention'),
  /** The customer API's credential (caller `api` of RetentionApi) for the internal routes. */
  RETENTION_INTERNAL_TOKEN: serviceToken(),
  VAULT_URL: z.url(),
  /** Retention's own credential for the vault (legal holds only). */
  VAULT_TOKEN: serviceToken(),
  VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** How often due redactions are looked for. */
  RETENTION_TICK_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  /** Redactions requested per transaction. */
  RETENTION_BATCH: z.coerce.number().int().min(1).max(10_000).default(1_000),
  /**
   * Test builds only (NODE_ENV=test): the service's clock runs this far ahead, so a test sees what
   * happens days later without waiting. Refused in any other environment.
   */
  RETENTION_TEST_CLOCK_OFFSET_MS: z.coerce.number().int().min(0).default(0),
});

export type RetentionConfig = z.infer<typeof RetentionConfigSchema>;

export const RETENTION_CONFIG = Symbol('RETENTION_CONFIG');

export function validateRetentionConfig(config: RetentionConfig): RetentionConfig {
  if (config.RETENTION_TEST_CLOCK_OFFSET_MS !== 0 && config.NODE_ENV !== 'test')
    throw new Error('RETENTION_TEST_CLOCK_OFFSET_MS is only allowed with NODE_ENV=test');
  return config;
}
