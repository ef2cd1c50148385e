import { baseConfigSchema, httpPort } from '@veil/platform/config';
import type { z } from 'zod';

export const AuditLogConfigSchema = baseConfigSchema.extend({
  PORT: httpPort(3005),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('audit_log'),
});

export type AuditLogConfig = z.infer<typeof AuditLogConfigSchema>;
