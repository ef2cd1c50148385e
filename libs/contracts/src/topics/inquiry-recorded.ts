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
  consumers: ['api'],
});

export const VaultToken = z
  .string()
  .regex(/^vt_[A-Za-z0-9_-]{16,64}$/)
  .describe('Opaque reference to one encrypted attribute in the vault.');

export const InquiryRecordedV1 = z.strictObject({
  inquiryId: InquiryId,
  templateId: OpaqueId,
  status: InquiryStatus,
  createdAt: Timestamp,
  attributesProvided: z.array(z.enum(PII_ATTRIBUTES)),
  vaultTokens: z.partialRecord(z.enum(PII_ATTRIBUTES), VaultToken),
});
export type InquiryRecordedV1 = z.infer<typeof InquiryRecordedV1>;

export const InquiryRecorded = defineEvent<InquiryRecordedV1>({
  topic: InquiryRecordedTopic,
  eventType: 'inquiry.recorded',
  eventVersion: 1,
  description:
    'Ingest recorded an inquiry and vaulted its PII. Carries names of attributes and tokens, never values.',
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
      vaultTokens: {
        nameFirst: 'vt_8fM2kQ1xZr4TbW9a',
        nameLast: 'vt_Lp3N7cV0sD2eH6jY',
        birthdate: 'vt_Qa5R1uE8gK3mX0wz',
      },
    },
  },
});
