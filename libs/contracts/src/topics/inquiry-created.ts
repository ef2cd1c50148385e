import { z } from 'zod';

import { defineEvent, defineTopic, retention } from '../contract';
import { InquiryId, OpaqueId } from '../ids';

export const InquiryCreatedTopic = defineTopic({
  name: 'inquiry.created',
  description:
    'Inquiries from upstream identity-verification systems, with their PII. The only topic allowed to carry plaintext PII; its retention is bounded.',
  partitions: 6,
  retentionMs: retention.days(7),
  retentionEnv: 'VEIL_INTAKE_RETENTION_MS',
  cleanupPolicy: 'delete',
  carriesPii: true,
  producers: ['upstream', 'ingest'],
  consumers: ['ingest'],
});

const text = (max: number) => z.string().min(1).max(max);
const fileRef = z
  .string()
  .min(1)
  .max(512)
  .describe('A reference to a stored file (e.g. an object-storage key); the file itself never travels.');

export const InquiryAttributes = z
  .strictObject({
    nameFirst: text(256),
    nameMiddle: text(256),
    nameLast: text(256),
    birthdate: z.iso.date().describe('YYYY-MM-DD'),
    addressStreet1: text(512),
    addressStreet2: text(512),
    addressCity: text(256),
    addressSubdivision: text(256),
    addressPostalCode: text(32),
    addressCountryCode: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code'),
    emailAddress: z.email().max(320),
    phoneNumber: z.string().regex(/^\+?[0-9 ().-]{4,32}$/, 'must be a phone number'),
    identificationNumber: text(128),
    identificationType: text(64),
    documentFiles: z.array(fileRef).min(1).max(20),
    selfieFiles: z.array(fileRef).min(1).max(20),
  })
  .partial();

export const InquiryStatus = z.enum([
  'created',
  'pending',
  'completed',
  'approved',
  'declined',
  'needs_review',
  'expired',
  'failed',
]);

export const InquiryCreatedV1 = z.strictObject({
  inquiryId: InquiryId,
  referenceId: text(256).optional().describe("The customer's own identifier for the person (PII: vaulted)."),
  templateId: OpaqueId,
  status: InquiryStatus,
  attributes: InquiryAttributes,
});
export type InquiryCreatedV1 = z.infer<typeof InquiryCreatedV1>;

export const InquiryCreated = defineEvent<InquiryCreatedV1>({
  topic: InquiryCreatedTopic,
  eventType: 'inquiry.created',
  eventVersion: 1,
  description: 'An upstream system created an inquiry. Unknown attributes are rejected, not stored.',
  data: InquiryCreatedV1,
  key: (data) => data.inquiryId,
  example: {
    organizationId: 'org_acme',
    data: {
      inquiryId: 'inq_2zQm9xYp',
      referenceId: 'customer-user-1842',
      templateId: 'itmpl_kyc_basic',
      status: 'completed',
      attributes: {
        nameFirst: 'Ada',
        nameLast: 'Lovelace',
        birthdate: '1815-12-10',
        addressStreet1: '12 St James Square',
        addressCity: 'London',
        addressPostalCode: 'SW1Y 4JH',
        addressCountryCode: 'GB',
        emailAddress: 'ada@example.com',
        phoneNumber: '+44 20 7946 0000',
        identificationNumber: 'X1234567',
        identificationType: 'passport',
        documentFiles: ['files/org_acme/inq_2zQm9xYp/passport-front.jpg'],
        selfieFiles: ['files/org_acme/inq_2zQm9xYp/selfie-center.jpg'],
      },
    },
  },
});
