import { z } from 'zod';

import { envelopeFields } from '../envelope';
import { EventId, InquiryId, OpaqueId, OrganizationId, SubjectRef, Timestamp } from '../ids';
import { AuditCheckpointSignedV1 } from '../topics/audit-checkpoints';
import { AuditActor, AuditEventV1 } from '../topics/audit-events';
import { defineInternalApi } from './internal-api';

const DateTime = z.iso.datetime({ offset: true });
const Seq = z.number().int().min(0);
const TreeSize = z.number().int().min(1);
const HexHash = z.string().regex(/^[a-f0-9]{64}$/);
const Chain = z.string().min(1).max(200).describe('`org:<organization>` or `operator`.');

export const AuditLogSearchRequest = z.strictObject({
  organizationId: OrganizationId,
  filters: z.strictObject({
    actorType: AuditActor.shape.type.optional(),
    actorId: OpaqueId.optional(),
    action: z.string().min(1).max(128).optional(),
    outcome: z.enum(['allowed', 'denied', 'failed']).optional(),
    inquiryId: InquiryId.optional(),
    subjectRef: SubjectRef.optional(),
    occurredFrom: DateTime.optional(),
    occurredTo: DateTime.optional(),
  }),
  /** Position after which to continue (from the previous page). */
  after: z.strictObject({ occurredAt: DateTime, chain: z.string().max(200), seq: Seq }).optional(),
  limit: z.number().int().min(1).max(500),
  includeProof: z.boolean().default(false),
});
export type AuditLogSearchRequest = z.infer<typeof AuditLogSearchRequest>;

const ChainRequest = z.strictObject({
  organizationId: OrganizationId,
  /** `org` (the organization's own chain) or `operator`. */
  chain: z.enum(['org', 'operator']),
});

/** Checkpoints are stored and answered exactly as they are published on `audit.checkpoints`. */
export const AuditLogCheckpoint = AuditCheckpointSignedV1;

export const AuditLogInclusionProof = z.strictObject({
  chain: Chain,
  seq: Seq,
  checkpoint: AuditLogCheckpoint,
  path: z.array(HexHash).describe('RFC 9162 inclusion path (hex), leaf upwards.'),
});
export type AuditLogInclusionProof = z.infer<typeof AuditLogInclusionProof>;

export const AuditLogConsistencyProof = z.strictObject({
  chain: Chain,
  from: AuditLogCheckpoint,
  to: AuditLogCheckpoint,
  path: z.array(HexHash).describe('RFC 9162 consistency path (hex).'),
});

/** One logged entry as the query API returns it: the event's fields plus the exact logged bytes. */
export const AuditLogFoundEntry = z.strictObject({
  chain: Chain,
  seq: Seq,
  eventId: EventId,
  organizationId: OrganizationId,
  occurredAt: Timestamp,
  appendedAt: Timestamp,
  producer: envelopeFields.producer,
  action: AuditEventV1.shape.action,
  actor: AuditActor,
  outcome: AuditEventV1.shape.outcome,
  targets: AuditEventV1.shape.targets,
  purpose: AuditEventV1.shape.purpose,
  change: AuditEventV1.shape.change,
  requestId: AuditEventV1.shape.requestId,
  entry: z
    .string()
    .describe('The canonical entry, byte for byte as hashed: leaf hash = SHA-256(0x00 ‖ entry).'),
  leafHash: HexHash,
});
export type AuditLogFoundEntry = z.infer<typeof AuditLogFoundEntry>;

/** An exported entry: its bytes, or (past retention) its leaf hash only. */
export const AuditLogExportedEntry = z.union([
  z.strictObject({ seq: Seq, entry: z.string(), leafHash: HexHash }),
  z.strictObject({ seq: Seq, leafHash: HexHash }),
]);
export type AuditLogExportedEntry = z.infer<typeof AuditLogExportedEntry>;

export const AuditLogPublicKey = z.strictObject({
  keyId: z.string(),
  algorithm: z.literal('ECDSA_SHA_256'),
  publicKeyPem: z.string().describe('SPKI PEM of the key that signs checkpoints.'),
});
export type AuditLogPublicKey = z.infer<typeof AuditLogPublicKey>;

/**
 * The audit log's internal API, called by the customer API on behalf of one organization (taken
 * from the caller's key, never from the customer's input). Chains an organization may read: its own
 * (`org:<id>`) and, for entries about it, the operator chain.
 */
export const AuditLogApi = defineInternalApi({
  service: 'audit-log',
  description: 'The tamper-evident audit log: Merkle chains per organization and signed checkpoints.',
  operations: {
    search: {
      path: '/internal/v1/audit-log/entries/search',
      description:
        "Entries about the organization, newest first; with includeProof, each one's inclusion proof against its chain's newest checkpoint (null while none covers it yet).",
      request: AuditLogSearchRequest,
      response: z.strictObject({
        entries: z.array(AuditLogFoundEntry.extend({ proof: AuditLogInclusionProof.nullable().optional() })),
      }),
      callers: ['api'],
    },
    entryProof: {
      path: '/internal/v1/audit-log/entries/proof',
      description:
        'One entry about the organization and its inclusion proof against the checkpoint of `treeSize` leaves (default: the newest). 404: no such entry, or no checkpoint of that size; 409: the checkpoint does not cover the entry (yet).',
      request: z.strictObject({
        organizationId: OrganizationId,
        eventId: OpaqueId,
        treeSize: TreeSize.optional(),
      }),
      response: z.strictObject({ entry: AuditLogFoundEntry, proof: AuditLogInclusionProof }),
      callers: ['api'],
    },
    checkpoints: {
      path: '/internal/v1/audit-log/checkpoints',
      description: "A chain's signed checkpoints in size order, above `afterSize`.",
      request: ChainRequest.extend({
        afterSize: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000),
      }),
      response: z.strictObject({ checkpoints: z.array(AuditLogCheckpoint) }),
      callers: ['api'],
    },
    consistency: {
      path: '/internal/v1/audit-log/consistency',
      description:
        'Proves the checkpoint of `to` leaves extends the one of `from` leaves. 400 from > to; 404 no checkpoint of a size.',
      request: ChainRequest.extend({ from: TreeSize, to: TreeSize }),
      response: AuditLogConsistencyProof,
      callers: ['api'],
    },
    publicKey: {
      path: '/internal/v1/audit-log/public-key',
      description: "The checkpoint signing key's public half. The body is not read.",
      request: z.strictObject({}),
      response: AuditLogPublicKey,
      callers: ['api'],
    },
    chainEntries: {
      path: '/internal/v1/audit-log/chain-entries',
      description: "Pages through the organization's own chain in order after `afterSeq`, for exports.",
      request: z.strictObject({
        organizationId: OrganizationId,
        afterSeq: z.number().int().min(-1),
        limit: z.number().int().min(1).max(10_000),
      }),
      response: z.strictObject({ entries: z.array(AuditLogExportedEntry) }),
      callers: ['api'],
    },
  },
});
