import { z } from 'zod';

import { PII_ATTRIBUTES } from '../attributes';
import { defineEvent, defineTopic, retention } from '../contract';
import { InquiryId, OpaqueId, SubjectRef, Timestamp } from '../ids';

export const RedactionReason = z.enum(['api_request', 'retention_policy', 'dsar_erasure']);
export type RedactionReason = z.infer<typeof RedactionReason>;

/** The services that apply a redaction besides the vault; a redaction is complete once each has. */
export const RedactionApplier = z.enum(['ingest', 'api']);
export type RedactionApplier = z.infer<typeof RedactionApplier>;

export const PiiRedactionRequestedTopic = defineTopic({
  name: 'pii.redaction.requested',
  description: 'Requests to redact an inquiry or every inquiry of a subject, for good. No PII.',
  partitions: 6,
  retentionMs: retention.days(30),
  cleanupPolicy: 'delete',
  carriesPii: false,
  // a redaction that falls out of the pipeline is PII that was never deleted
  mustDeliver: true,
  producers: ['api', 'retention'],
  consumers: ['vault'],
});

export const PiiRedactionRequestedV1 = z.strictObject({
  redactionId: OpaqueId,
  target: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('inquiry'), inquiryId: InquiryId }),
    z.strictObject({ kind: z.literal('subject'), subjectRef: SubjectRef }),
  ]),
  reason: RedactionReason,
  requestedBy: OpaqueId.describe('API key id, policy id or DSAR id that asked for it.'),
  requestedAt: Timestamp.optional(),
});
export type PiiRedactionRequestedV1 = z.infer<typeof PiiRedactionRequestedV1>;

export const PiiRedactionRequested = defineEvent<PiiRedactionRequestedV1>({
  topic: PiiRedactionRequestedTopic,
  eventType: 'pii.redaction.requested',
  eventVersion: 1,
  description:
    "A permanent redaction asked for: one inquiry, or every inquiry of a subject (the blind index of its reference id, never the value) in the organization, including the subject's inquiries that arrive until the redaction completes. The vault applies it.",
  data: PiiRedactionRequestedV1,
  key: (data, organizationId) =>
    data.target.kind === 'inquiry'
      ? `${organizationId}:${data.target.inquiryId}`
      : `${organizationId}:${data.target.subjectRef}`,
  example: {
    organizationId: 'org_acme',
    data: {
      redactionId: 'red_01JDX3',
      target: { kind: 'inquiry', inquiryId: 'inq_2zQm9xYp' },
      reason: 'api_request',
      requestedBy: 'key_7Hq2',
      requestedAt: '2026-11-25T10:19:58.000Z',
    },
  },
});

export const PiiRedactedTopic = defineTopic({
  name: 'pii.redacted',
  description:
    'The redaction ledger of record: one record per redacted inquiry, compacted and kept forever, so a database restored from an old backup is reconciled from it.',
  partitions: 6,
  retentionMs: retention.forever,
  cleanupPolicy: 'compact',
  carriesPii: false,
  mustDeliver: true,
  producers: ['vault'],
  // retention follows redactions to stop planning them; it keeps no record to apply them to
  consumers: ['vault', ...RedactionApplier.options, 'retention'],
  deadLetterRetentionMs: retention.days(30),
});

export const PiiRedactedV1 = z.strictObject({
  redactionId: OpaqueId,
  inquiryId: InquiryId,
  reason: RedactionReason,
  redactedAt: Timestamp,
  requestedBy: OpaqueId.optional(),
  attributesRedacted: z.array(z.enum(PII_ATTRIBUTES)),
});
export type PiiRedactedV1 = z.infer<typeof PiiRedactedV1>;

export const PiiRedacted = defineEvent<PiiRedactedV1>({
  topic: PiiRedactedTopic,
  eventType: 'pii.redacted',
  eventVersion: 1,
  description:
    "An inquiry's ciphertexts and data key are deleted, for good. Ingest and the api's read model set `redactedAt` and keep the rest of the record (status never changes); each answers with `pii.redaction.applied`.",
  data: PiiRedactedV1,
  // Organization and inquiry: compaction keeps one record per key, and inquiry ids are the upstream's.
  key: (data, organizationId) => `${organizationId}:${data.inquiryId}`,
  example: {
    organizationId: 'org_acme',
    data: {
      redactionId: 'red_01JDX3',
      inquiryId: 'inq_2zQm9xYp',
      reason: 'api_request',
      redactedAt: '2026-11-25T10:20:00.000Z',
      requestedBy: 'key_7Hq2',
      attributesRedacted: ['nameFirst', 'nameLast', 'birthdate'],
    },
  },
});

export const PiiRedactionAppliedTopic = defineTopic({
  name: 'pii.redaction.applied',
  description: 'Each service that keeps a record of inquiries says it applied a redaction. No PII.',
  partitions: 6,
  retentionMs: retention.days(30),
  cleanupPolicy: 'delete',
  carriesPii: false,
  mustDeliver: true,
  producers: [...RedactionApplier.options],
  consumers: ['vault'],
});

export const PiiRedactionAppliedV1 = z.strictObject({
  redactionId: OpaqueId,
  inquiryId: InquiryId,
  service: RedactionApplier,
  appliedAt: Timestamp,
});
export type PiiRedactionAppliedV1 = z.infer<typeof PiiRedactionAppliedV1>;

export const PiiRedactionApplied = defineEvent<PiiRedactionAppliedV1>({
  topic: PiiRedactionAppliedTopic,
  eventType: 'pii.redaction.applied',
  eventVersion: 1,
  description:
    'A service applied `pii.redacted` to its own records (it holds nothing of the inquiry but the PII-free record with `redactedAt`). The vault completes a redaction once every service has.',
  data: PiiRedactionAppliedV1,
  key: (data, organizationId) => `${organizationId}:${data.inquiryId}`,
  example: {
    organizationId: 'org_acme',
    data: {
      redactionId: 'red_01JDX3',
      inquiryId: 'inq_2zQm9xYp',
      service: 'ingest',
      appliedAt: '2026-11-25T10:20:00.180Z',
    },
  },
});
