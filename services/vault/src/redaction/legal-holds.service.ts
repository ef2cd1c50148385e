import { Injectable } from '@nestjs/common';
import { AuditEvent, type LegalHold, type RequestOf, type VaultApi } from '@veil/contracts';
import { inTenantTransaction, queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { ApiError } from '@veil/platform/service';
import { randomBytes } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';

import { GrantChecker, type GrantedRequest } from '../grants/grant-checker';
import { activeHolds, lockOrganizations } from './redaction.service';

type Ops = typeof VaultApi.operations;

interface HoldRow {
  hold_id: string;
  target_kind: 'inquiry' | 'subject';
  inquiry_id: string | null;
  basis: string;
  expires_at: Date | null;
  created_at: Date;
  released_at: Date | null;
}

const COLUMNS = 'hold_id, target_kind, inquiry_id, basis, expires_at, created_at, released_at';

/**
 * Legal holds (e.g. anti-money-laundering record keeping): while one is active, no redaction (by
 * API, retention policy or erasure) touches the inquiries it covers; each skip is recorded and
 * reported with the hold's basis. Placing one takes the lock redactions take, so a redaction
 * applied at the same moment either saw the hold or finished before it.
 */
@Injectable()
export class LegalHoldsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly grants: GrantChecker,
    private readonly outbox: OutboxWriter,
  ) {}

  async place(request: RequestOf<Ops['placeHold']>): Promise<LegalHold> {
    await this.authorize(request);
    if (request.expiresAt && Date.parse(request.expiresAt) <= Date.now())
      throw ApiError.badRequest('expiresAt must be in the future', {
        fields: [{ path: 'body.expiresAt', issue: 'in_the_past' }],
      });
    return inTenantTransaction(this.dataSource, [request.organizationId], async (tx) => {
      await lockOrganizations(tx, [request.organizationId]);
      const { target } = request;
      const [row] = await queryRows<HoldRow>(
        tx,
        `insert into legal_holds (organization_id, hold_id, target_kind, inquiry_id, subject_ref, basis, expires_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${COLUMNS}`,
        [
          request.organizationId,
          `hold_${randomBytes(12).toString('hex')}`,
          target.kind,
          target.kind === 'inquiry' ? target.inquiryId : null,
          target.kind === 'subject' ? target.subjectRef : null,
          request.basis,
          request.expiresAt ?? null,
          request.actor.id,
        ],
      );
      await this.audit(
        tx,
        request,
        'legal_hold.placed',
        row!,
        target.kind === 'subject' ? target.subjectRef : undefined,
      );
      return view(row!);
    });
  }

  async list(request: RequestOf<Ops['listHolds']>): Promise<LegalHold[]> {
    await this.authorize(request);
    const rows = await inTenantTransaction(this.dataSource, [request.organizationId], (tx) =>
      queryRows<HoldRow>(
        tx,
        `select ${COLUMNS} from legal_holds
          where organization_id = $1 and ($2 or released_at is null)
          order by created_at desc, hold_id desc limit 1000`,
        [request.organizationId, request.includeReleased],
      ),
    );
    return rows.map(view);
  }

  async release(request: RequestOf<Ops['releaseHold']>): Promise<LegalHold> {
    await this.authorize(request);
    return inTenantTransaction(this.dataSource, [request.organizationId], async (tx) => {
      const [row] = await queryRows<HoldRow>(
        tx,
        `update legal_holds set released_at = coalesce(released_at, now()), released_by = coalesce(released_by, $3)
          where organization_id = $1 and hold_id = $2 returning ${COLUMNS}`,
        [request.organizationId, request.holdId, request.actor.id],
      );
      if (!row) throw ApiError.notFound('no such legal hold');
      await this.audit(tx, request, 'legal_hold.released', row);
      return view(row);
    });
  }

  /** For retention's planning: which of these inquiries an active hold covers. */
  async heldAmong(
    request: RequestOf<Ops['heldAmong']>,
  ): Promise<{ inquiryId: string; holdId: string; basis: string }[]> {
    const holds = await inTenantTransaction(this.dataSource, [request.organizationId], (tx) =>
      activeHolds(
        tx,
        request.inquiryIds.map((inquiryId) => ({ organizationId: request.organizationId, inquiryId })),
      ),
    );
    return request.inquiryIds
      .filter((id) => holds.has(`${request.organizationId}\u0000${id}`))
      .map((id) => ({ inquiryId: id, ...holds.get(`${request.organizationId}\u0000${id}`)! }));
  }

  private async authorize(request: GrantedRequest): Promise<void> {
    if (this.grants.authorizes(request, 'retention:manage')) return;
    throw new ApiError(
      403,
      'invalid_grant',
      'the access grant is missing, forged, expired or for another request',
    );
  }

  private async audit(
    tx: EntityManager,
    request: GrantedRequest,
    action: string,
    row: HoldRow,
    subjectRef?: string,
  ): Promise<void> {
    await this.outbox.enqueue(
      tx,
      AuditEvent,
      {
        organizationId: request.organizationId,
        correlationId: request.requestId,
        data: {
          action,
          actor: request.actor,
          outcome: 'allowed',
          targets: {
            resourceIds: [row.hold_id],
            ...(row.inquiry_id ? { inquiryIds: [row.inquiry_id] } : {}),
            ...(subjectRef ? { subjectRefs: [subjectRef] } : {}),
          },
          purpose: `legal hold: ${row.basis}`.slice(0, 256),
          requestId: request.requestId,
        },
      },
      { ordered: false },
    );
  }
}

function view(row: HoldRow): LegalHold {
  return {
    holdId: row.hold_id,
    target:
      row.target_kind === 'inquiry' ? { kind: 'inquiry', inquiryId: row.inquiry_id! } : { kind: 'subject' },
    basis: row.basis,
    expiresAt: row.expires_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    releasedAt: row.released_at?.toISOString() ?? null,
  };
}
