import { baseConfigSchema, httpPort } from '@veil/platform/config';
import type { z } from 'zod';

export const DsarConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3004),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('dsar'),
});

export type DsarConfig = z.infer<typeof DsarConfigSchema>;
