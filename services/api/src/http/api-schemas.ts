import {
  InquiryId,
  InquiryStatus,
  OpaqueId,
  OrganizationId,
  PII_ATTRIBUTES,
  SubjectRef,
  Timestamp,
} from '@veil/contracts';
import { SCOPES } from '@veil/platform/auth';
import { MAX_ERROR_MESSAGE_CHARS } from '@veil/platform/service';
import { z } from 'zod';

/**
 * The customer API's request and response shapes: validated at the edge, documented from here.
 * Every string and array has an upper bound, and every bound is one the server keeps: request
 * bounds are checked by these very schemas, response bounds hold by construction (noted where not
 * obvious). Text anywhere in a request is also refused with U+0000 or an unpaired surrogate
 * (see `input()` in endpoint.ts; the document says so in its patterns and description).
 */

/** A string of at most `max` characters (any text but U+0000 and unpaired surrogates). */
const text = (max: number) => z.string().max(max);
/** Whole numbers as JSON carries them exactly (the document calls them int64). */
const wholeNumber = () => z.number().int().min(0);

export const ErrorBody = z
  .object({
    code: z
      .string()
      .max(64)
      .regex(/^[a-z][a-z0-9_]*$/)
      .describe('Stable machine-readable code, e.g. "not_found", "forbidden".'),
    message: text(MAX_ERROR_MESSAGE_CHARS),
    requestId: z
      .string()
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/)
      .describe('Also in the Request-Id response header; quote it to support.'),
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

/** Bounds of inquiry.created: text attributes up to 512 characters, at most 20 files of each kind. */
export const AttributeValue = z.union([text(512), z.array(text(512)).max(20), MaskedAttribute]);

export const Inquiry = z
  .strictObject({
    id: InquiryId,
    type: z.literal('inquiry'),
    status: InquiryStatus,
    templateId: OpaqueId,
    createdAt: Timestamp,
    redactedAt: Timestamp.nullable(),
    attributes: z
      .partialRecord(z.enum(PII_ATTRIBUTES), AttributeValue)
      .describe('Plaintext only for attributes enabled for the organization and keys with pii:reveal.'),
  })
  .meta({ id: 'Inquiry' });
export type Inquiry = z.infer<typeof Inquiry>;

/** Pagination positions are base64url JSON that only Veil writes; pass them back unchanged. */
export const Cursor = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[A-Za-z0-9_-]+$/)
  .describe('`nextCursor` of the previous page, unchanged (a cursor Veil did not issue answers 400).');

export const InquiryList = z
  .strictObject({
    data: z.array(Inquiry).max(100),
    nextCursor: Cursor.nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'InquiryList' });

export const ListInquiriesQuery = z.strictObject({
  referenceId: text(256)
    .min(1)
    .optional()
    .describe("The customer's own id for the person (matched by blind index)."),
  status: InquiryStatus.optional(),
  createdAfter: Timestamp.optional().describe('Inclusive.'),
  createdBefore: Timestamp.optional().describe('Exclusive.'),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
  cursor: Cursor.optional(),
});

export const InquiryPath = z.strictObject({ inquiryId: InquiryId });

export const RedactionId = z
  .string()
  .max(32)
  .regex(/^red_[A-Za-z0-9]{20}$/)
  .describe('A redaction, as `DELETE /v1/inquiries/{inquiryId}` or `POST /v1/redactions` answered it.');
export const RedactionPath = z.strictObject({ redactionId: RedactionId });

export const CreateRedaction = z
  .strictObject({
    referenceId: text(256)
      .min(1)
      .describe(
        "The customer's own id for the person: every inquiry of that person in the organization is redacted, and so is each one that arrives until the redaction completes. Not stored; the redaction keeps its blind index.",
      ),
  })
  .meta({ id: 'CreateRedaction' });

const APPLIERS = ['vault', 'ingest', 'api'] as const;

export const Redaction = z
  .strictObject({
    id: RedactionId,
    type: z.literal('redaction'),
    target: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('inquiry'), inquiryId: InquiryId }),
      z
        .strictObject({ kind: z.literal('subject') })
        .describe('Every inquiry of one person (by reference id).'),
    ]),
    reason: z.enum(['api_request', 'retention_policy', 'dsar_erasure']),
    status: z
      .enum(['requested', 'in_progress', 'completed'])
      .describe(
        '`requested`: accepted, not yet applied by the vault; `in_progress`: ciphertexts and keys deleted, other services still applying; `completed`: every service applied it.',
      ),
    requestedAt: Timestamp,
    inquiriesRedacted: wholeNumber().describe(
      'Inquiries whose PII this redaction deleted (0 when already redacted).',
    ),
    appliedBy: z
      .record(z.enum(APPLIERS), Timestamp.nullable())
      .describe('When each service had applied the whole redaction (null: not yet).'),
    completedAt: Timestamp.nullable(),
    held: z
      .array(z.strictObject({ inquiryId: InquiryId, holdId: OpaqueId, basis: text(256) }))
      .max(1000)
      .describe('Inquiries the redaction left alone because a legal hold covers them, with its basis.'),
    rawEventsDeletedBy: Timestamp.nullable().describe(
      'The intake topic keeps each raw inquiry event, PII included, for a bounded time (`VEIL_INTAKE_RETENTION_MS`, 7 days by default), and its dead-letter topic the same: raw events of these inquiries published before `requestedAt` are gone from Kafka by this time. Veil never reads them back into the vault (the redaction ledger refuses them). Null when that topic keeps records forever.',
    ),
  })
  .meta({ id: 'Redaction' });
export type Redaction = z.infer<typeof Redaction>;

export const RedactionList = z
  .strictObject({
    data: z.array(Redaction).max(100),
    nextCursor: Cursor.nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'RedactionList' });

export const ListRedactionsQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
  cursor: Cursor.optional(),
});

export const RetentionRule = z
  .strictObject({
    templateId: OpaqueId.optional().describe(
      'The inquiry template the rule is for; absent: the default rule, for every template without one.',
    ),
    after: z
      .enum(['created', 'terminal_status'])
      .describe(
        '`created`: days after the inquiry was recorded; `terminal_status`: only inquiries recorded in a final status (completed, approved, declined, expired, failed), days after that.',
      ),
    days: z.number().int().min(1).max(36_500),
  })
  .meta({ id: 'RetentionRule' });

export const RetentionPolicyBody = z
  .strictObject({
    rules: z
      .array(RetentionRule)
      .max(100)
      .describe('At most one rule per template and one default rule. Empty: nothing is redacted by policy.'),
  })
  .meta({ id: 'RetentionPolicyInput' });

export const RetentionPolicy = z
  .strictObject({
    rules: z.array(RetentionRule).max(100),
    updatedAt: Timestamp.nullable(),
  })
  .meta({ id: 'RetentionPolicy' });

export const RetentionPreviewQuery = z.strictObject({
  days: z.coerce.number().int().min(0).max(36_500).describe('The window: from now to this many days ahead.'),
});

export const RetentionPreview = z
  .strictObject({
    from: Timestamp,
    to: Timestamp,
    total: wholeNumber().describe('Inquiries the policy will redact in the window.'),
    byTemplate: z.array(z.strictObject({ templateId: OpaqueId, count: wholeNumber() })).max(100_000),
    held: z
      .array(z.strictObject({ basis: text(256), count: wholeNumber() }))
      .max(100_000)
      .describe('Due in the window but under a legal hold (skipped while it lasts), by basis.'),
  })
  .meta({ id: 'RetentionPreview' });

export const LegalHoldId = z
  .string()
  .max(32)
  .regex(/^hold_[a-f0-9]{24}$/);
export const LegalHoldPath = z.strictObject({ holdId: LegalHoldId });

const holdTerms = {
  basis: text(256).min(1).describe('Why the data must be kept, e.g. "AML record keeping". No personal data.'),
  expiresAt: Timestamp.optional().describe('When the hold ends by itself; absent: until released.'),
};

export const CreateLegalHold = z
  .union([
    z.strictObject({ inquiryId: InquiryId.describe('Hold one inquiry.'), ...holdTerms }),
    z.strictObject({
      referenceId: text(256)
        .min(1)
        .describe(
          "Hold every inquiry of a person, by the customer's reference id (kept only as its blind index).",
        ),
      ...holdTerms,
    }),
  ])
  .meta({ id: 'CreateLegalHold' });

export const LegalHold = z
  .strictObject({
    id: LegalHoldId,
    type: z.literal('legal_hold'),
    target: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('inquiry'), inquiryId: InquiryId }),
      z.strictObject({ kind: z.literal('subject') }),
    ]),
    basis: text(256),
    expiresAt: Timestamp.nullable(),
    createdAt: Timestamp,
    releasedAt: Timestamp.nullable(),
  })
  .meta({ id: 'LegalHold' });
export type LegalHold = z.infer<typeof LegalHold>;

export const LegalHoldList = z
  .strictObject({ data: z.array(LegalHold).max(1000) })
  .meta({ id: 'LegalHoldList' });

export const ListLegalHoldsQuery = z.strictObject({
  includeReleased: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export const ApiKeyId = z
  .string()
  .max(20)
  .regex(/^key_[A-Za-z0-9]{16}$/);
export const KeyPath = z.strictObject({ keyId: ApiKeyId });

export const EnabledAttributes = z
  .strictObject({ attributes: z.array(z.enum(PII_ATTRIBUTES)).max(PII_ATTRIBUTES.length) })
  .meta({ id: 'EnabledAttributes' });

/** Bounds AccessRepository keeps for every organization and key, however created. */
export const MAX_ORGANIZATION_NAME_CHARS = 200;
export const MAX_API_KEY_NAME_CHARS = 256;
/** What the API takes for a new key's name (the operator's tool may add " admin" to an organization's name). */
const MAX_NEW_API_KEY_NAME_CHARS = 128;

export const Organization = z
  .strictObject({
    id: OrganizationId,
    name: text(MAX_ORGANIZATION_NAME_CHARS),
    status: z.enum(['active', 'suspended']),
    enabledAttributes: z.array(z.enum(PII_ATTRIBUTES)).max(PII_ATTRIBUTES.length),
    createdAt: Timestamp,
  })
  .meta({ id: 'Organization' });

export const ApiKey = z
  .strictObject({
    id: ApiKeyId,
    name: text(MAX_API_KEY_NAME_CHARS),
    scopes: z.array(z.enum(SCOPES)).max(SCOPES.length),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    revokedAt: Timestamp.nullable(),
  })
  .meta({ id: 'ApiKey' });

export const ApiKeyList = z
  .strictObject({
    data: z.array(ApiKey).max(100),
    nextCursor: ApiKeyId.nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'ApiKeyList' });

export const ListApiKeysQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(100).default(100),
  cursor: ApiKeyId.optional().describe(
    '`nextCursor` of the previous page: keys created after that one (an id of no key of yours: an empty page).',
  ),
});

export const CreatedApiKey = ApiKey.extend({
  secret: z
    .string()
    .max(128)
    .regex(/^veil_sk_key_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/)
    .nullable()
    .describe('Shown once. Store it now: Veil keeps only a hash (an Idempotency-Key replay returns null).'),
}).meta({ id: 'CreatedApiKey' });

/** The last instant an ISO-8601 answer can show with a four-digit year. */
export const LATEST_EXPIRY = '9999-12-31T23:59:59.999Z';

export const CreateApiKey = z
  .strictObject({
    name: text(MAX_NEW_API_KEY_NAME_CHARS).min(1),
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length).describe('Duplicates count once.'),
    expiresAt: Timestamp.optional().describe(
      `Must be in the future and no later than ${LATEST_EXPIRY} (400 otherwise). Without it the key never expires.`,
    ),
  })
  .meta({ id: 'CreateApiKey' });

// ---- audit log ----

export const AuditChainName = z
  .enum(['org', 'operator'])
  .describe("`org`: your organization's own chain; `operator`: the chain of Veil operators' actions.");

/** `org:<organization>` or `operator`, as in the audit.checkpoints contract. */
const ChainId = text(200);
const HexHash = z
  .string()
  .max(64)
  .regex(/^[a-f0-9]{64}$/);
/** A proof has one hash per tree level; trees stay far below 2^64 entries. */
const MAX_PROOF_HASHES = 128;
/** An entry is one audit.events record re-encoded: at most the largest record (8 MiB), plus its envelope. */
const MAX_ENTRY_CHARS = 9 * 1024 * 1024;
/** audit.events bounds: at most 1000 targets of each kind, actions and changed fields of 128 characters. */
const MAX_TARGETS = 1_000;

export const ListAuditEntriesQuery = z.strictObject({
  actorType: z.enum(['api_key', 'operator', 'service']).optional(),
  actorId: OpaqueId.optional().describe('An API key id (key_…) or an operator id.'),
  action: text(128).min(1).optional().describe('e.g. pii.reveal, api_key.created, access.denied.'),
  outcome: z.enum(['allowed', 'denied', 'failed']).optional(),
  inquiryId: InquiryId.optional(),
  subjectRef: SubjectRef.optional(),
  occurredAfter: Timestamp.optional().describe('Inclusive.'),
  occurredBefore: Timestamp.optional().describe('Exclusive.'),
  includeProof: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe('Attach to each entry its inclusion proof against the newest signed checkpoint.'),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  cursor: Cursor.optional(),
});

export const AuditCheckpoint = z
  .strictObject({
    chain: ChainId,
    treeSize: wholeNumber(),
    rootHash: HexHash.describe('Hex SHA-256 Merkle tree root (RFC 9162).'),
    signedAt: Timestamp,
    keyId: text(2048),
    algorithm: z.literal('ECDSA_SHA_256'),
    signature: text(512).describe(
      'Base64 DER ECDSA P-256 signature of "veil-audit-checkpoint/v1\\n{chain}\\n{treeSize}\\n{rootHash}\\n{signedAt}\\n".',
    ),
  })
  .meta({ id: 'AuditCheckpoint' });

export const AuditInclusionProof = z
  .strictObject({
    chain: ChainId,
    seq: wholeNumber(),
    checkpoint: AuditCheckpoint,
    path: z.array(HexHash).max(MAX_PROOF_HASHES).describe('RFC 9162 inclusion path (hex), leaf upwards.'),
  })
  .meta({ id: 'AuditInclusionProof' });

export const AuditEntry = z
  .strictObject({
    eventId: OpaqueId,
    chain: ChainId,
    seq: wholeNumber().describe("Position in the chain's Merkle tree (leaf index)."),
    organizationId: OrganizationId,
    occurredAt: Timestamp,
    appendedAt: Timestamp,
    producer: text(64).describe('The Veil service that recorded the access.'),
    action: text(128),
    actor: z.strictObject({ type: z.enum(['api_key', 'operator', 'service']), id: OpaqueId }),
    outcome: z.enum(['allowed', 'denied', 'failed']),
    targets: z.strictObject({
      inquiryIds: z.array(InquiryId).max(MAX_TARGETS).optional(),
      subjectRefs: z.array(SubjectRef).max(MAX_TARGETS).optional(),
      attributes: z.array(z.enum(PII_ATTRIBUTES)).max(MAX_TARGETS).optional(),
      resourceIds: z.array(OpaqueId).max(MAX_TARGETS).optional(),
    }),
    purpose: text(256).optional(),
    change: z
      .strictObject({
        field: text(128),
        before: z.array(text(64)).max(100),
        after: z.array(text(64)).max(100),
      })
      .optional(),
    requestId: OpaqueId.optional(),
    entry: text(MAX_ENTRY_CHARS).describe(
      'The logged entry, byte for byte: leaf hash = SHA-256(0x00 ‖ entry).',
    ),
    leafHash: HexHash,
    proof: AuditInclusionProof.nullable()
      .optional()
      .describe('With includeProof=true; null while no signed checkpoint covers the entry yet (seconds).'),
  })
  .meta({ id: 'AuditEntry' });

export const AuditEntryList = z
  .strictObject({
    data: z.array(AuditEntry).max(200),
    nextCursor: Cursor.nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'AuditEntryList' });

export const AuditEntryPath = z.strictObject({ eventId: OpaqueId });

export const AuditProofQuery = z.strictObject({
  treeSize: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Prove against the checkpoint of this size (default: the newest).'),
});

export const AuditEntryProof = z
  .strictObject({ entry: AuditEntry, proof: AuditInclusionProof })
  .meta({ id: 'AuditEntryProof' });

export const ListAuditCheckpointsQuery = z.strictObject({
  chain: AuditChainName.default('org'),
  afterSize: z.coerce.number().int().min(0).default(0),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
});

export const AuditCheckpointList = z
  .strictObject({
    data: z.array(AuditCheckpoint).max(1000),
    nextAfterSize: wholeNumber().nullable(),
  })
  .meta({ id: 'AuditCheckpointList' });

export const AuditConsistencyQuery = z.strictObject({
  chain: AuditChainName.default('org'),
  from: z.coerce
    .number()
    .int()
    .min(1)
    .describe('Tree size of the earlier checkpoint; at most `to` (400 otherwise).'),
  to: z.coerce.number().int().min(1).describe('Tree size of the later checkpoint.'),
});

export const AuditConsistencyProof = z
  .strictObject({
    chain: ChainId,
    from: AuditCheckpoint,
    to: AuditCheckpoint,
    path: z.array(HexHash).max(MAX_PROOF_HASHES).describe('RFC 9162 consistency path (hex).'),
  })
  .meta({ id: 'AuditConsistencyProof' });

export const AuditPublicKey = z
  .strictObject({
    keyId: text(2048),
    algorithm: z.literal('ECDSA_SHA_256'),
    publicKeyPem: text(4096).describe('SPKI PEM of the ECC_NIST_P256 key that signs checkpoints.'),
  })
  .meta({ id: 'AuditPublicKey' });

export const AuditExportLine = z
  .union([
    z.strictObject({ checkpoint: AuditCheckpoint }),
    z
      .strictObject({ seq: wholeNumber(), entry: text(MAX_ENTRY_CHARS), leafHash: HexHash })
      .describe('An entry: its bytes and its leaf hash, SHA-256(0x00 ‖ entry).'),
    z
      .strictObject({ seq: wholeNumber(), leafHash: HexHash })
      .describe('An entry past retention: content erased, leaf hash kept (the tree still verifies).'),
  ])
  .meta({ id: 'AuditExportLine' });
