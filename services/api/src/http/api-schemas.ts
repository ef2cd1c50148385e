import { InquiryId, InquiryStatus, PII_ATTRIBUTES, Timestamp } from '@veil/contracts';
import { SCOPES } from '@veil/platform/auth';
import { z } from 'zod';

/** The customer API's request and response shapes: validated at the edge, documented from here. */

export const ErrorBody = z
  .object({
    code: z.string().describe('Stable machine-readable code, e.g. "not_found", "forbidden".'),
    message: z.string(),
    requestId: z.string().describe('Also in the Request-Id response header; quote it to support.'),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error' });

export const MaskedAttribute = z
  .strictObject({
    redacted: z.boolean().describe('True once the value was permanently redacted.'),
    available: z.boolean().describe('True when the vault holds a value this key may not see.'),
  })
  .meta({
    id: 'MaskedAttribute',
    description: 'An attribute the caller may not see: present, never silently dropped.',
  });

export const AttributeValue = z.union([z.string(), z.array(z.string()), MaskedAttribute]);

export const Inquiry = z
  .strictObject({
    id: InquiryId,
    type: z.literal('inquiry'),
    status: InquiryStatus,
    templateId: z.string(),
    createdAt: Timestamp,
    redactedAt: Timestamp.nullable(),
    attributes: z
      .partialRecord(z.enum(PII_ATTRIBUTES), AttributeValue)
      .describe('Plaintext only for attributes enabled for the organization and keys with pii:reveal.'),
  })
  .meta({ id: 'Inquiry' });
export type Inquiry = z.infer<typeof Inquiry>;

export const InquiryList = z
  .strictObject({
    data: z.array(Inquiry),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'InquiryList' });

export const ListInquiriesQuery = z
  .strictObject({
    referenceId: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe("The customer's own id for the person (matched by blind index)."),
    status: InquiryStatus.optional(),
    createdAfter: Timestamp.optional(),
    createdBefore: Timestamp.optional(),
    pageSize: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(512).optional(),
  })
  .meta({ id: 'ListInquiriesQuery' });

export const InquiryPath = z.strictObject({ inquiryId: InquiryId });
export const KeyPath = z.strictObject({ keyId: z.string().regex(/^key_[A-Za-z0-9]{16}$/) });

export const EnabledAttributes = z
  .strictObject({ attributes: z.array(z.enum(PII_ATTRIBUTES)).max(PII_ATTRIBUTES.length) })
  .meta({ id: 'EnabledAttributes' });

export const Organization = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    status: z.enum(['active', 'suspended']),
    enabledAttributes: z.array(z.enum(PII_ATTRIBUTES)),
    createdAt: Timestamp,
  })
  .meta({ id: 'Organization' });

export const ApiKey = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyList = z.strictObject({ data: z.array(ApiKey) }).meta({ id: 'ApiKeyList' });

export const CreatedApiKey = ApiKey.extend({
  secret: z
    .string()
    .nullable()
    .describe('Shown once. Store it now: Veil keeps only a hash (an Idempotency-Key replay returns null).'),
}).meta({ id: 'CreatedApiKey' });

export const CreateApiKey = z
  .strictObject({
    name: z.string().min(1).max(128),
    scopes: z.array(z.enum(SCOPES)).min(1),
    expiresAt: Timestamp.optional(),
  })
  .meta({ id: 'CreateApiKey' });
