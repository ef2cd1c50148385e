import { z } from 'zod';

import { OpaqueId, OrganizationId, Timestamp } from '../ids';
import { AuditActor } from '../topics/audit-events';
import { defineInternalApi } from './internal-api';

export const RetentionRule = z.strictObject({
  templateId: OpaqueId.optional().describe(
    'The inquiry template it applies to; absent: every template without a rule of its own.',
  ),
  after: z
    .enum(['created', 'terminal_status'])
    .describe(
      '`created`: counted from when the inquiry was recorded; `terminal_status`: only inquiries in a final status (completed, approved, declined, expired, failed), from then.',
    ),
  days: z.number().int().min(1).max(36_500),
});
export type RetentionRule = z.infer<typeof RetentionRule>;

export const RetentionRules = z
  .array(RetentionRule)
  .max(100)
  .refine((rules) => new Set(rules.map((r) => r.templateId ?? '')).size === rules.length, {
    message: 'at most one rule per template, and one default rule',
  });

export const RetentionPolicyView = z.strictObject({
  rules: z.array(RetentionRule),
  updatedAt: Timestamp.nullable(),
});
export type RetentionPolicyView = z.infer<typeof RetentionPolicyView>;

export const RetentionPreview = z.strictObject({
  from: Timestamp,
  to: Timestamp,
  /** Inquiries the policy will redact in the window (due by `to`, not held, not redacted yet). */
  total: z.number().int().min(0),
  byTemplate: z.array(z.strictObject({ templateId: OpaqueId, count: z.number().int().min(1) })),
  /** Due in the window but under a legal hold, so skipped for now, by basis. */
  held: z.array(z.strictObject({ basis: z.string(), count: z.number().int().min(1) })),
});
export type RetentionPreview = z.infer<typeof RetentionPreview>;

/** The retention service's internal API: the customer API reads and changes policies and previews them. */
export const RetentionApi = defineInternalApi({
  service: 'retention',
  description: 'Retention policies and their scheduled redactions.',
  operations: {
    getPolicy: {
      path: '/internal/v1/retention/policy',
      description: "The organization's retention policy (no rules: nothing is redacted by policy).",
      request: z.strictObject({ organizationId: OrganizationId }),
      response: RetentionPolicyView,
      callers: ['api'],
    },
    putPolicy: {
      path: '/internal/v1/retention/policy/put',
      description:
        "Replaces the organization's policy, audited, and plans every inquiry again: a shorter period applies to old inquiries, a longer one stops pending ones.",
      request: z.strictObject({
        organizationId: OrganizationId,
        rules: RetentionRules,
        actor: AuditActor,
        requestId: OpaqueId,
      }),
      response: RetentionPolicyView,
      callers: ['api'],
    },
    preview: {
      path: '/internal/v1/retention/preview',
      description: 'What the policy will redact in the next `days` days, per template: what then happens.',
      request: z.strictObject({ organizationId: OrganizationId, days: z.number().int().min(0).max(36_500) }),
      response: RetentionPreview,
      callers: ['api'],
    },
  },
});
