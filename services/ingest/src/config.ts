import { baseConfigSchema, httpPort } from '@veil/platform/config';
import { z } from 'zod';

export const IngestConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3001),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('ingest'),
  VAULT_URL: z.url(),
  VAULT_INTERNAL_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  VAULT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  /** Service credential for POST /v1/inquiries (organization API keys replace it for customers). */
  INGEST_INTAKE_TOKEN: z.string().min(16, 'must be at least 16 characters'),
});

export type IngestConfig = z.infer<typeof IngestConfigSchema>;

export const INGEST_CONFIG = Symbol('INGEST_CONFIG');
