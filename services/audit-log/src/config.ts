import { baseConfigSchema, httpPort, kmsConfigSchema, serviceToken } from '@veil/platform/config';
import { z } from 'zod';

export const AuditLogConfigSchema = baseConfigSchema.extend(kmsConfigSchema.shape).extend({
  PORT: httpPort(3005),
  /** The customer API's credential (caller `api` of AuditLogApi) for the internal routes. */
  AUDIT_LOG_INTERNAL_TOKEN: serviceToken(),
  DATABASE_SCHEMA: baseConfigSchema.shape.DATABASE_SCHEMA.default('audit_log'),
  /** The KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that signs checkpoints. */
  AUDIT_SIGNING_KEY_ALIAS: z
    .string()
    .regex(/^alias\/[A-Za-z0-9/_-]+$/)
    .default('alias/veil-audit-signing'),
  /** A chain is checkpointed after this many new entries… */
  AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).default(1_000),
  /** …or when it has new entries and its last checkpoint is this old. */
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
});

export type AuditLogConfig = z.infer<typeof AuditLogConfigSchema>;

export const AUDIT_LOG_CONFIG = Symbol('AUDIT_LOG_CONFIG');
