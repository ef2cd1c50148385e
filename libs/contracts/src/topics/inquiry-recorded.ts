import { z } from 'zod';

import { PII_ATTRIBUTES } from '../attributes';
import { defineEvent, defineTopic, retention } from '../contract';
import { InquiryId, OpaqueId, Timestamp } from '../ids';
import { InquiryStatus } from './inquiry-created';

export const InquiryRecordedTopic = defineTopic({
  name: 'inquiry.recorded',
  description: 'The PII-free inquiry record, published once its PII is in the vault.',
  partitions: 6,
  retentionMs: retention.days(30),
  cleanupPolicy: 'delete',
  carriesPii: false,
  producers: ['ingest'],
  consumers: ['api', 'retention'],
});

export const InquiryRecordedV1 = z.strictObject({
  inquiryId: InquiryId,
  templateId: OpaqueId,
  status: InquiryStatus,
  createdAt: Timestamp,
  attributesProvided: z.array(z.enum(PII_ATTRIBUTES)),
  /** Present when the inquiry was redacted before it was recorded (its subject is under erasure). */
  redactedAt: Timestamp.optional(),
  // Still accepted because records sent before its removal stay on the topic (strict object).
  vaultTokens: z
    .partialRecord(z.enum(PII_ATTRIBUTES), z.string().regex(/^vt_[A-Za-z0-9_-]{16,64}$/))
    .optional()
    .meta({ deprecated: true, description: 'Deprecated: no longer sent; ignored.' }),
});
/** What producers send and consumers read: without the deprecated `vaultTokens`. */
export type InquiryRecordedV1 = Omit<z.infer<typeof InquiryRecordedV1>, 'vaultTokens'>;

export const InquiryRecorded = defineEvent<InquiryRecordedV1>({
  topic: InquiryRecordedTopic,
  eventType: 'inquiry.recorded',
  eventVersion: 1,
  description:
    'Ingest recorded an inquiry and vaulted its PII. Carries the names of the attributes, never values.',
  data: InquiryRecordedV1,
  key: (data) => data.inquiryId,
  example: {
    organizationId: 'org_acme',
    data: {
      inquiryId: 'inq_2zQm9xYp',
      templateId: 'itmpl_kyc_basic',
      status: 'completed',
      createdAt: '2026-11-25T10:15:00.000Z',
      attributesProvided: ['nameFirst', 'nameLast', 'birthdate'],
    },
  },
});
