import { AuditActor, InquiryId, OpaqueId, OrganizationId, SubjectRef } from '@veil/contracts';
import { z } from 'zod';

/**
 * Internal API of the audit log, called by the customer API on behalf of one organization (taken
 * from the caller's key, never from the customer's input). Chains an organization may read: its own
 * (`org:<id>`) and, for entries about it, the operator chain.
 */
const Timestamp = z.iso.datetime({ offset: true });
const Seq = z.number().int().min(0);
const TreeSize = z.number().int().min(1);

export const SearchRequest = z.strictObject({
  organizationId: OrganizationId,
  filters: z.strictObject({
    actorType: AuditActor.shape.type.optional(),
    actorId: OpaqueId.optional(),
    action: z.string().min(1).max(128).optional(),
    outcome: z.enum(['allowed', 'denied', 'failed']).optional(),
    inquiryId: InquiryId.optional(),
    subjectRef: SubjectRef.optional(),
    occurredFrom: Timestamp.optional(),
    occurredTo: Timestamp.optional(),
  }),
  /** Position after which to continue (from the previous page). */
  after: z.strictObject({ occurredAt: Timestamp, chain: z.string().max(200), seq: Seq }).optional(),
  limit: z.number().int().min(1).max(500),
  includeProof: z.boolean().default(false),
});
export type SearchRequest = z.infer<typeof SearchRequest>;

export const EntryProofRequest = z.strictObject({
  organizationId: OrganizationId,
  eventId: OpaqueId,
  treeSize: TreeSize.optional(),
});

export const ChainRequest = z.strictObject({
  organizationId: OrganizationId,
  /** `org` (the organization's own chain) or `operator`. */
  chain: z.enum(['org', 'operator']),
});

export const CheckpointsRequest = ChainRequest.extend({
  afterSize: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(1000),
});

export const ConsistencyRequest = ChainRequest.extend({ from: TreeSize, to: TreeSize });

/** Pages through the organization's own chain in order, for exports. */
export const ChainEntriesRequest = z.strictObject({
  organizationId: OrganizationId,
  afterSeq: z.number().int().min(-1),
  limit: z.number().int().min(1).max(10_000),
});
