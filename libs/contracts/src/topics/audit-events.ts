import { z } from 'zod';

import { PII_ATTRIBUTES } from '../attributes';
import { defineEvent, defineTopic, retention } from '../contract';
import { InquiryId, OpaqueId, SubjectRef } from '../ids';

export const AuditEventsTopic = defineTopic({
  name: 'audit.events',
  description:
    'Audit events from the outboxes of the vault, the api, retention and the audit log, to the tamper-evident audit log. No PII.',
  partitions: 6,
  retentionMs: retention.days(30),
  cleanupPolicy: 'delete',
  carriesPii: false,
  mustDeliver: true,
  producers: ['vault', 'api', 'audit-log', 'retention'],
  consumers: ['audit-log'],
});

export const AuditActor = z.strictObject({
  type: z.enum(['api_key', 'operator', 'service']),
  id: OpaqueId,
});

export const AuditEventV1 = z.strictObject({
  action: z
    .string()
    .max(128)
    .regex(/^[a-z][a-z_]*(\.[a-z_]+)+$/, 'must look like "pii.reveal"'),
  actor: AuditActor,
  outcome: z.enum(['allowed', 'denied', 'failed']),
  targets: z.strictObject({
    inquiryIds: z.array(InquiryId).max(1000).optional(),
    subjectRefs: z.array(SubjectRef).max(1000).optional(),
    attributes: z.array(z.enum(PII_ATTRIBUTES)).max(1000).optional(),
    resourceIds: z.array(OpaqueId).max(1000).optional(),
  }),
  purpose: z
    .string()
    .max(256)
    .optional()
    .describe('Why the access happened (free text chosen by the actor; no PII).'),
  change: z
    .strictObject({
      field: z
        .string()
        .max(128)
        .regex(/^[a-z][a-zA-Z_.]*$/),
      before: z.array(z.string().max(64)).max(100),
      after: z.array(z.string().max(64)).max(100),
    })
    .optional()
    .describe('For configuration changes: the field and its values before and after (names, never PII).'),
  requestId: OpaqueId.optional(),
});
export type AuditEventV1 = z.infer<typeof AuditEventV1>;

export const AuditEvent = defineEvent<AuditEventV1>({
  topic: AuditEventsTopic,
  eventType: 'audit.recorded',
  eventVersion: 1,
  description: 'One audited access or change. Written in the same transaction as the access it records.',
  data: AuditEventV1,
  // one chain per organization: keying by organization keeps each chain's events in order
  key: (_data, organizationId) => organizationId,
  example: {
    organizationId: 'org_acme',
    data: {
      action: 'pii.reveal',
      actor: { type: 'api_key', id: 'key_7Hq2' },
      outcome: 'allowed',
      targets: { inquiryIds: ['inq_2zQm9xYp'], attributes: ['nameFirst'] },
      purpose: 'customer support ticket 4411',
      requestId: 'req_9dT1',
    },
  },
});
