import { z } from 'zod';

import { PII_ATTRIBUTES } from '../attributes';
import { defineEvent, defineTopic, retention } from '../contract';
import { InquiryId, OpaqueId, SubjectRef, Timestamp } from '../ids';

export const RedactionReason = z.enum(['api_request', 'retention_policy', 'dsar_erasure']);

export const PiiRedactionRequestedTopic = defineTopic({
  name: 'pii.redaction.requested',
  description:
    'Reserved for the redaction work: requests to redact an inquiry or a subject. Nothing publishes or consumes it yet.',
  partitions: 6,
  retentionMs: retention.days(30),
  cleanupPolicy: 'delete',
  carriesPii: false,
  producers: [],
  consumers: [],
});

export const PiiRedactionRequestedV1 = z.strictObject({
  redactionId: OpaqueId,
  target: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('inquiry'), inquiryId: InquiryId }),
    z.strictObject({ kind: z.literal('subject'), subjectRef: SubjectRef }),
  ]),
  reason: RedactionReason,
  requestedBy: OpaqueId.describe('API key id, policy id or DSAR id that asked for it.'),
});
export type PiiRedactionRequestedV1 = z.infer<typeof PiiRedactionRequestedV1>;

export const PiiRedactionRequested = defineEvent<PiiRedactionRequestedV1>({
  topic: PiiRedactionRequestedTopic,
  eventType: 'pii.redaction.requested',
  eventVersion: 1,
  description:
    'Defined for the redaction work (a permanent redaction asked for by the API, retention or a DSAR); nothing publishes or consumes it yet, and the vault does not redact.',
  data: PiiRedactionRequestedV1,
  key: (data, organizationId) =>
    data.target.kind === 'inquiry' ? data.target.inquiryId : `${organizationId}:${data.target.subjectRef}`,
  example: {
    organizationId: 'org_acme',
    data: {
      redactionId: 'red_01JDX3',
      target: { kind: 'inquiry', inquiryId: 'inq_2zQm9xYp' },
      reason: 'api_request',
      requestedBy: 'key_7Hq2',
    },
  },
});

export const PiiRedactedTopic = defineTopic({
  name: 'pii.redacted',
  description:
    'Reserved for the redaction ledger (one record per redacted inquiry, compacted, kept forever). Nothing publishes or consumes it yet.',
  partitions: 6,
  retentionMs: retention.forever,
  cleanupPolicy: 'compact',
  carriesPii: false,
  producers: [],
  consumers: [],
  deadLetterRetentionMs: retention.days(30),
});

export const PiiRedactedV1 = z.strictObject({
  redactionId: OpaqueId,
  inquiryId: InquiryId,
  reason: RedactionReason,
  redactedAt: Timestamp,
  attributesRedacted: z.array(z.enum(PII_ATTRIBUTES)),
});
export type PiiRedactedV1 = z.infer<typeof PiiRedactedV1>;

export const PiiRedacted = defineEvent<PiiRedactedV1>({
  topic: PiiRedactedTopic,
  eventType: 'pii.redacted',
  eventVersion: 1,
  description:
    "Defined for the redaction work (an inquiry's ciphertexts deleted and its data key destroyed, for good); nothing publishes or consumes it yet.",
  data: PiiRedactedV1,
  key: (data) => data.inquiryId,
  example: {
    organizationId: 'org_acme',
    data: {
      redactionId: 'red_01JDX3',
      inquiryId: 'inq_2zQm9xYp',
      reason: 'api_request',
      redactedAt: '2026-11-25T10:20:00.000Z',
      attributesRedacted: ['nameFirst', 'nameLast', 'birthdate'],
    },
  },
});
