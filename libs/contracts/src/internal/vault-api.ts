import { z } from 'zod';

import { PII_ATTRIBUTES } from '../attributes';
import { InquiryId, OpaqueId, OrganizationId, SubjectRef, Timestamp } from '../ids';
import { AuditActor } from '../topics/audit-events';
import { RedactionApplier } from '../topics/pii-redaction';
import { defineInternalApi } from './internal-api';

const attributeValue = z.union([
  z.string().min(1).max(4096),
  z.array(z.string().min(1).max(512)).min(1).max(20),
]);

const PiiValues = z.partialRecord(z.enum(PII_ATTRIBUTES), attributeValue);

export const VaultStoreRequest = z.strictObject({
  inquiries: z
    .array(
      z.strictObject({
        organizationId: OrganizationId,
        inquiryId: InquiryId,
        values: PiiValues,
        occurredAt: Timestamp.optional().describe(
          'When the upstream event says the inquiry happened: an inquiry of a subject erased since is never stored, even after the erasure completed (a redrive, a lagging consumer).',
        ),
      }),
    )
    .min(1),
});
export type VaultStoreRequest = z.infer<typeof VaultStoreRequest>;

export const VaultedInquiry = z.strictObject({
  organizationId: OrganizationId,
  inquiryId: InquiryId,
  /** False when the inquiry was already in the vault (or redacted): nothing was written this time. */
  created: z.boolean(),
  /** True when the inquiry is redacted (before, or now: its subject is being erased): record it so. */
  redacted: z.boolean(),
});
export type VaultedInquiry = z.infer<typeof VaultedInquiry>;

/**
 * A short-lived grant minted by the customer API once it has verified an API key: it binds the
 * organization, the actor (the key) and the request id that the vault audits, signed with a key
 * the vault trusts (`libs/platform/auth` access grants). Without it a caller could name any
 * organization or actor.
 */
export const AccessGrantToken = z
  .string()
  .min(1)
  .max(2048)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'must be a signed access grant');

export const VaultRevealRequest = z.strictObject({
  organizationId: OrganizationId,
  inquiryIds: z.array(InquiryId).min(1).max(100),
  attributes: z.array(z.enum(PII_ATTRIBUTES)).min(1),
  purpose: z.string().min(1).max(256),
  actor: AuditActor,
  requestId: OpaqueId,
  grant: AccessGrantToken,
});
export type VaultRevealRequest = z.infer<typeof VaultRevealRequest>;

export const RevealedInquiry = z.strictObject({
  inquiryId: InquiryId,
  /** False when the vault holds nothing for it (unknown id, or another organization's). */
  found: z.boolean(),
  /** True when its keys were destroyed: redacted for good. */
  redacted: z.boolean(),
  attributes: z.partialRecord(z.enum(PII_ATTRIBUTES), attributeValue),
});
export type RevealedInquiry = z.infer<typeof RevealedInquiry>;

/** Why one request of a batch revealed nothing; the others of the batch are unaffected. */
export const RevealFailureCode = z.enum([
  'ciphertext_integrity',
  'invalid_grant',
  'reveal_failed',
  'vault_unavailable',
]);
export type RevealFailureCode = z.infer<typeof RevealFailureCode>;

export const RevealOutcome = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), inquiries: z.array(RevealedInquiry) }),
  z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({ code: RevealFailureCode, message: z.string() }),
  }),
]);
export type RevealOutcome = z.infer<typeof RevealOutcome>;

export const LookupKind = z.enum(['referenceId', 'emailAddress', 'identificationNumber']);

export const VaultLookupRequest = z.strictObject({
  organizationId: OrganizationId,
  kind: LookupKind,
  value: z.string().min(1).max(512),
  actor: AuditActor,
  requestId: OpaqueId,
  grant: AccessGrantToken,
});
export type VaultLookupRequest = z.infer<typeof VaultLookupRequest>;

/** A customer-initiated request about redactions, vouched for by the customer API's access grant. */
const GrantedRequest = {
  organizationId: OrganizationId,
  actor: AuditActor,
  requestId: OpaqueId,
  grant: AccessGrantToken,
};

export const VaultSubjectRefRequest = z.strictObject({
  ...GrantedRequest,
  kind: z.literal('referenceId'),
  value: z.string().min(1).max(512),
});
export type VaultSubjectRefRequest = z.infer<typeof VaultSubjectRefRequest>;

export const VaultRedactionStatusRequest = z.strictObject({
  ...GrantedRequest,
  redactionIds: z.array(OpaqueId).min(1).max(100),
});
export type VaultRedactionStatusRequest = z.infer<typeof VaultRedactionStatusRequest>;

export const RedactionProgress = z.strictObject({
  redactionId: OpaqueId,
  /** `in_progress` until the vault has redacted and every other service has applied it. */
  status: z.enum(['in_progress', 'completed']),
  inquiriesRedacted: z.number().int().min(0),
  /** When the vault deleted the ciphertexts and keys (for a subject: of the inquiries it held then). */
  vaultAppliedAt: Timestamp.nullable(),
  /** Per service, when it applied the last of the redaction's inquiries (null: not all yet). */
  appliedBy: z.record(RedactionApplier, Timestamp.nullable()),
  completedAt: Timestamp.nullable(),
  /** Inquiries the redaction named but left alone: under a legal hold (at most 1000 listed). */
  held: z.array(z.strictObject({ inquiryId: InquiryId, holdId: OpaqueId, basis: z.string() })).max(1000),
});
export type RedactionProgress = z.infer<typeof RedactionProgress>;

export const HoldBasis = z
  .string()
  .min(1)
  .max(256)
  .describe('Why the data must be kept, e.g. "AML record keeping (5 years)". Free text: no PII.');

export const LegalHold = z.strictObject({
  holdId: OpaqueId,
  target: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('inquiry'), inquiryId: InquiryId }),
    z.strictObject({ kind: z.literal('subject') }),
  ]),
  basis: HoldBasis,
  expiresAt: Timestamp.nullable(),
  createdAt: Timestamp,
  releasedAt: Timestamp.nullable(),
});
export type LegalHold = z.infer<typeof LegalHold>;

/** The vault's internal API: ingest hands PII over; the customer API reveals and searches. */
export const VaultApi = defineInternalApi({
  service: 'vault',
  description: 'The only holder of PII and data keys.',
  operations: {
    store: {
      path: '/internal/v1/inquiries/store',
      description: 'Vaults a batch of inquiries (one call per consumed batch); idempotent per inquiry.',
      request: VaultStoreRequest,
      response: z.strictObject({ results: z.array(VaultedInquiry) }),
      callers: ['ingest'],
    },
    lookup: {
      path: '/internal/v1/inquiries/lookup',
      description:
        'Finds inquiries by a searchable attribute through its blind index; audited; the value is never stored.',
      request: VaultLookupRequest,
      response: z.strictObject({ inquiryIds: z.array(InquiryId) }),
      callers: ['api'],
    },
    reveal: {
      path: '/internal/v1/inquiries/reveal',
      description: 'One purpose-bound, audited reveal.',
      request: VaultRevealRequest,
      response: z.strictObject({ inquiries: z.array(RevealedInquiry) }),
      callers: ['api'],
    },
    revealBatch: {
      path: '/internal/v1/inquiries/reveal-batch',
      description:
        'Concurrent reveal requests answered in one call; each is authorized and audited on its own, and fails on its own.',
      request: z.strictObject({ requests: z.array(VaultRevealRequest).min(1).max(200) }),
      response: z.strictObject({ results: z.array(RevealOutcome) }),
      callers: ['api'],
    },
    subjectRef: {
      path: '/internal/v1/subjects/ref',
      description:
        "The keyed-hash reference (blind index) of a subject's reference id, which a subject redaction names instead of the value.",
      request: VaultSubjectRefRequest,
      response: z.strictObject({ subjectRef: SubjectRef }),
      callers: ['api'],
    },
    placeHold: {
      path: '/internal/v1/legal-holds/place',
      description:
        'Places a legal hold on an inquiry or on every inquiry of a subject (its blind index): no redaction touches them until it is released or expires. Audited.',
      request: z.strictObject({
        ...GrantedRequest,
        target: z.discriminatedUnion('kind', [
          z.strictObject({ kind: z.literal('inquiry'), inquiryId: InquiryId }),
          z.strictObject({ kind: z.literal('subject'), subjectRef: SubjectRef }),
        ]),
        basis: HoldBasis,
        expiresAt: Timestamp.optional(),
      }),
      response: LegalHold,
      callers: ['api'],
    },
    listHolds: {
      path: '/internal/v1/legal-holds/list',
      description: "The organization's legal holds, newest first (at most 1000), released ones too if asked.",
      request: z.strictObject({ ...GrantedRequest, includeReleased: z.boolean() }),
      response: z.strictObject({ holds: z.array(LegalHold) }),
      callers: ['api'],
    },
    releaseHold: {
      path: '/internal/v1/legal-holds/release',
      description:
        'Releases a legal hold (404 unknown); redactions that skipped its inquiries are not redone. Audited.',
      request: z.strictObject({ ...GrantedRequest, holdId: OpaqueId }),
      response: LegalHold,
      callers: ['api'],
    },
    heldAmong: {
      path: '/internal/v1/legal-holds/among',
      description:
        'Which of these inquiries are under an active legal hold, and why (for retention planning).',
      request: z.strictObject({
        organizationId: OrganizationId,
        inquiryIds: z.array(InquiryId).min(1).max(10_000),
      }),
      response: z.strictObject({
        held: z.array(z.strictObject({ inquiryId: InquiryId, holdId: OpaqueId, basis: HoldBasis })),
      }),
      callers: ['retention'],
    },
    redactionStatus: {
      path: '/internal/v1/redactions/status',
      description:
        "Progress of redactions the vault has received (absent: not received yet); the organization's only.",
      request: VaultRedactionStatusRequest,
      response: z.strictObject({ redactions: z.array(RedactionProgress) }),
      callers: ['api'],
    },
  },
});
