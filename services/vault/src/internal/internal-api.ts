import { InquiryId, OpaqueId, OrganizationId, PII_ATTRIBUTES, AuditActor } from '@veil/contracts';
import { z } from 'zod';

/** Internal API of the vault (called by ingest today, by the customer API for reveals later). */
const attributeValue = z.union([
  z.string().min(1).max(4096),
  z.array(z.string().min(1).max(512)).min(1).max(20),
]);

export const StoreRequest = z.strictObject({
  inquiries: z
    .array(
      z.strictObject({
        organizationId: OrganizationId,
        inquiryId: InquiryId,
        values: z.partialRecord(z.enum(PII_ATTRIBUTES), attributeValue),
      }),
    )
    .min(1),
});
export type StoreRequest = z.infer<typeof StoreRequest>;

export const RevealRequestBody = z.strictObject({
  organizationId: OrganizationId,
  inquiryIds: z.array(InquiryId).min(1).max(100),
  attributes: z.array(z.enum(PII_ATTRIBUTES)).min(1),
  purpose: z.string().min(1).max(256),
  actor: AuditActor,
  requestId: OpaqueId.optional(),
});
export type RevealRequestBody = z.infer<typeof RevealRequestBody>;

/** Concurrent reveal requests (e.g. of many customer API calls) answered in one call; each is audited on its own. */
export const RevealBatchBody = z.strictObject({
  requests: z.array(RevealRequestBody).min(1).max(200),
});

export const LookupRequest = z.strictObject({
  organizationId: OrganizationId,
  kind: z.enum(['referenceId', 'emailAddress', 'identificationNumber']),
  value: z.string().min(1).max(512),
});
