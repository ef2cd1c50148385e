import { InquiryId, InquiryStatus, OpaqueId, PII_ATTRIBUTES, SubjectRef, Timestamp } from '@veil/contracts';
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

// ---- audit log ----

export const AuditChainName = z
  .enum(['org', 'operator'])
  .describe("`org`: your organization's own chain; `operator`: the chain of Veil operators' actions.");

export const ListAuditEntriesQuery = z
  .strictObject({
    actorType: z.enum(['api_key', 'operator', 'service']).optional(),
    actorId: OpaqueId.optional().describe('An API key id (key_…) or an operator id.'),
    action: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('e.g. pii.reveal, api_key.created, access.denied.'),
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
    cursor: z.string().max(512).optional(),
  })
  .meta({ id: 'ListAuditEntriesQuery' });

export const AuditCheckpoint = z
  .strictObject({
    chain: z.string(),
    treeSize: z.number().int(),
    rootHash: z.string().describe('Hex SHA-256 Merkle tree root (RFC 9162).'),
    signedAt: Timestamp,
    keyId: z.string(),
    algorithm: z.literal('ECDSA_SHA_256'),
    signature: z
      .string()
      .describe(
        'Base64 DER ECDSA P-256 signature of "veil-audit-checkpoint/v1\\n{chain}\\n{treeSize}\\n{rootHash}\\n{signedAt}\\n".',
      ),
  })
  .meta({ id: 'AuditCheckpoint' });

export const AuditInclusionProof = z
  .strictObject({
    chain: z.string(),
    seq: z.number().int(),
    checkpoint: AuditCheckpoint,
    path: z.array(z.string()).describe('RFC 9162 inclusion path (hex), leaf upwards.'),
  })
  .meta({ id: 'AuditInclusionProof' });

export const AuditEntry = z
  .strictObject({
    eventId: z.string(),
    chain: z.string(),
    seq: z.number().int().describe("Position in the chain's Merkle tree (leaf index)."),
    organizationId: z.string(),
    occurredAt: Timestamp,
    appendedAt: Timestamp,
    producer: z.string().describe('The Veil service that recorded the access.'),
    action: z.string(),
    actor: z.strictObject({ type: z.enum(['api_key', 'operator', 'service']), id: z.string() }),
    outcome: z.enum(['allowed', 'denied', 'failed']),
    targets: z.strictObject({
      inquiryIds: z.array(z.string()).optional(),
      subjectRefs: z.array(z.string()).optional(),
      attributes: z.array(z.enum(PII_ATTRIBUTES)).optional(),
      resourceIds: z.array(z.string()).optional(),
    }),
    purpose: z.string().optional(),
    change: z
      .strictObject({ field: z.string(), before: z.array(z.string()), after: z.array(z.string()) })
      .optional(),
    requestId: z.string().optional(),
    entry: z.string().describe('The logged entry, byte for byte: leaf hash = SHA-256(0x00 ‖ entry).'),
    leafHash: z.string(),
    proof: AuditInclusionProof.nullable()
      .optional()
      .describe('With includeProof=true; null while no signed checkpoint covers the entry yet (seconds).'),
  })
  .meta({ id: 'AuditEntry' });

export const AuditEntryList = z
  .strictObject({
    data: z.array(AuditEntry),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
  })
  .meta({ id: 'AuditEntryList' });

export const AuditEntryPath = z.strictObject({ eventId: OpaqueId });

export const AuditProofQuery = z
  .strictObject({
    treeSize: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Prove against the checkpoint of this size (default: the newest).'),
  })
  .meta({ id: 'AuditProofQuery' });

export const AuditEntryProof = z
  .strictObject({ entry: AuditEntry, proof: AuditInclusionProof })
  .meta({ id: 'AuditEntryProof' });

export const ListAuditCheckpointsQuery = z
  .strictObject({
    chain: AuditChainName.default('org'),
    afterSize: z.coerce.number().int().min(0).default(0),
    pageSize: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .meta({ id: 'ListAuditCheckpointsQuery' });

export const AuditCheckpointList = z
  .strictObject({ data: z.array(AuditCheckpoint), nextAfterSize: z.number().int().nullable() })
  .meta({ id: 'AuditCheckpointList' });

export const AuditConsistencyQuery = z
  .strictObject({
    chain: AuditChainName.default('org'),
    from: z.coerce.number().int().min(1).describe('Tree size of the earlier checkpoint.'),
    to: z.coerce.number().int().min(1).describe('Tree size of the later checkpoint.'),
  })
  .meta({ id: 'AuditConsistencyQuery' });

export const AuditConsistencyProof = z
  .strictObject({
    chain: z.string(),
    from: AuditCheckpoint,
    to: AuditCheckpoint,
    path: z.array(z.string()).describe('RFC 9162 consistency path (hex).'),
  })
  .meta({ id: 'AuditConsistencyProof' });

export const AuditPublicKey = z
  .strictObject({
    keyId: z.string(),
    algorithm: z.literal('ECDSA_SHA_256'),
    publicKeyPem: z.string().describe('SPKI PEM of the ECC_NIST_P256 key that signs checkpoints.'),
  })
  .meta({ id: 'AuditPublicKey' });

export const AuditExportLine = z
  .union([
    z.strictObject({ checkpoint: AuditCheckpoint }),
    z.strictObject({ seq: z.number().int(), entry: z.string() }),
    z
      .strictObject({ seq: z.number().int(), leafHash: z.string() })
      .describe('An entry past retention: content erased, leaf hash kept (the tree still verifies).'),
  ])
  .meta({ id: 'AuditExportLine' });
