import { baseConfigSchema, httpPort } from '@veil/platform/config';
import type { z } from 'zod';

export const IngestConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3001),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('ingest'),
});

export type IngestConfig = z.infer<typeof IngestConfigSchema>;
