import { baseConfigSchema, httpPort } from '@veil/platform/config';
import type { z } from 'zod';

export const RetentionConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3003),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('retention'),
});

export type RetentionConfig = z.infer<typeof RetentionConfigSchema>;
