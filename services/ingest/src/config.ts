import { baseConfigSchema, httpPort, serviceToken } from '@veil/platform/config';
import { z } from 'zod';

export const IngestConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3001),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('ingest'),
  VAULT_URL: z.url(),
  /** Ingest's own credential for the vault's internal API (store only). */
  VAULT_TOKEN: serviceToken(),
  VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Service credential for POST /v1/inquiries (organization API keys replace it for customers). */
  INGEST_INTAKE_TOKEN: serviceToken(),
});

export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
