import { baseConfigSchema, httpPort, kmsConfigSchema } from '@veil/platform/config';
import type { z } from 'zod';

export const VaultConfigSchema = baseConfigSchema.extend(kmsConfigSchema.shape).extend({
  PORT: httpPort(3002),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('vault'),
});

export type VaultConfig = z.infer<typeof VaultConfigSchema>;
