import { Injectable } from '@nestjs/common';
import {
  InquiryCreated,
  PiiRedactionRequested,
  type PiiRedactionRequestedV1,
  rawRecordLifetimeMs,
  type RedactionProgress,
} from '@veil/contracts';
import type { Principal } from '@veil/platform/auth';
import { queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { ApiError } from '@veil/platform/service';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';

import { TenantDb } from '../access/tenant-db';
import { AuditEventWriter } from '../audit-events/audit-event-writer';
import type { Redaction } from '../http/api-schemas';
import { VaultClient } from '../vault-client/vault-client';

interface RedactionRow {
  redaction_id: string;
  target_kind: 'inquiry' | 'subject';
  inquiry_id: string | null;
  reason: PiiRedactionRequestedV1['reason'];
  requested_at: Date;
}

const COLUMNS = 'redaction_id, target_kind, inquiry_id, reason, requested_at';

/**
 * Redactions asked for through the API. The request is recorded and `pii.redaction.requested`
 * written to the outbox in one transaction, audited in it too; the vault applies it. Progress is
 * the vault's (it completes a redaction once every service applied it).
 */
@Injectable()
export class RedactionsService {
  constructor(
    private readonly tenants: TenantDb,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditEventWriter,
    private readonly vault: VaultClient,
  ) {}

  /** One inquiry; redacting it again answers the first redaction. */
  async redactInquiry(principal: Principal, inquiryId: string, requestId: string): Promise<Redaction> {
    const row = await this.tenants.forOrganization(principal.organizationId, async (tx) => {
      const [known] = await queryRows<{ n: number }>(
        tx,
        'select 1 as n from inquiries where organization_id = $1 and inquiry_id = $2',
        [principal.organizationId, inquiryId],
      );
      if (!known) throw ApiError.notFound('no such inquiry'); // another organization's id too
      const requested = await this.request(tx, principal, { kind: 'inquiry', inquiryId }, requestId);
      if (requested) return requested;
      // asked before (or by a concurrent request that committed first): that redaction
      const [existing] = await queryRows<RedactionRow>(
        tx,
        `select ${COLUMNS} from redactions where organization_id = $1 and inquiry_id = $2`,
        [principal.organizationId, inquiryId],
      );
      return existing!;
    });
    return (await this.render(principal, [row], requestId))[0]!;
  }

  /** Every inquiry of a person, by the customer's reference id (which is not stored, only its blind index). */
  async redactSubject(principal: Principal, referenceId: string, requestId: string): Promise<Redaction> {
    const subjectRef = await this.vault.subjectRef(principal, referenceId, requestId);
    const row = await this.tenants.forOrganization(
      principal.organizationId,
      async (tx) => (await this.request(tx, principal, { kind: 'subject', subjectRef }, requestId))!,
    );
    return (await this.render(principal, [row], requestId))[0]!;
  }

  async get(principal: Principal, redactionId: string, requestId: string): Promise<Redaction> {
    const [row] = await this.tenants.forOrganization(principal.organizationId, (tx) =>
      queryRows<RedactionRow>(
        tx,
        `select ${COLUMNS} from redactions where organization_id = $1 and redaction_id = $2`,
        [principal.organizationId, redactionId],
      ),
    );
    if (!row) throw ApiError.notFound('no such redaction');
    return (await this.render(principal, [row], requestId))[0]!;
  }

  async list(
    principal: Principal,
    query: { pageSize: number; cursor?: string | undefined },
    requestId: string,
  ): Promise<{ data: Redaction[]; nextCursor: string | null }> {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.tenants.forOrganization(principal.organizationId, (tx) =>
      queryRows<RedactionRow>(
        tx,
        `select ${COLUMNS} from redactions
          where organization_id = $1 ${after ? 'and (requested_at, redaction_id) < ($3::timestamptz, $4)' : ''}
          order by requested_at desc, redaction_id desc limit $2`,
        [
          principal.organizationId,
          query.pageSize + 1,
          ...(after ? [after.requestedAt, after.redactionId] : []),
        ],
      ),
    );
    const page = rows.slice(0, query.pageSize);
    const last = page[page.length - 1];
    return {
      data: await this.render(principal, page, requestId),
      nextCursor: rows.length > query.pageSize && last ? encodeCursor(last) : null,
    };
  }

  private async request(
    tx: EntityManager,
    principal: Principal,
    target: PiiRedactionRequestedV1['target'],
    requestId: string,
  ): Promise<RedactionRow | undefined> {
    const redactionId = newRedactionId();
    // one redaction per inquiry: a second request (even a concurrent one) inserts nothing
    const [row] = await queryRows<RedactionRow>(
      tx,
      `insert into redactions (organization_id, redaction_id, target_kind, inquiry_id, subject_ref, reason, requested_by)
       values ($1, $2, $3, $4, $5, 'api_request', $6)
       on conflict (organization_id, inquiry_id) do nothing
       returning ${COLUMNS}`,
      [
        principal.organizationId,
        redactionId,
        target.kind,
        target.kind === 'inquiry' ? target.inquiryId : null,
        target.kind === 'subject' ? target.subjectRef : null,
        principal.keyId,
      ],
    );
    if (!row) return undefined;
    await this.outbox.enqueue(tx, PiiRedactionRequested, {
      organizationId: principal.organizationId,
      correlationId: requestId,
      data: {
        redactionId,
        target,
        reason: 'api_request',
        requestedBy: principal.keyId,
        requestedAt: row!.requested_at.toISOString(),
      },
    });
    await this.audit.emit(tx, principal, {
      action: 'pii.redaction.requested',
      outcome: 'allowed',
      targets: {
        resourceIds: [redactionId],
        ...(target.kind === 'inquiry'
          ? { inquiryIds: [target.inquiryId] }
          : { subjectRefs: [target.subjectRef] }),
      },
      purpose: target.kind === 'inquiry' ? 'redact an inquiry' : 'redact every inquiry of a subject',
      requestId,
    });
    return row!;
  }

  private async render(principal: Principal, rows: RedactionRow[], requestId: string): Promise<Redaction[]> {
    const progress = await this.vault.redactionStatus(
      principal,
      rows.map((r) => r.redaction_id),
      requestId,
    );
    return rows.map((row) => view(row, progress.get(row.redaction_id)));
  }
}

function view(row: RedactionRow, progress: RedactionProgress | undefined): Redaction {
  return {
    id: row.redaction_id,
    type: 'redaction',
    target:
      row.target_kind === 'inquiry' ? { kind: 'inquiry', inquiryId: row.inquiry_id! } : { kind: 'subject' },
    reason: row.reason,
    status: progress?.status ?? 'requested',
    requestedAt: row.requested_at.toISOString(),
    inquiriesRedacted: progress?.inquiriesRedacted ?? 0,
    appliedBy: {
      vault: progress?.vaultAppliedAt ?? null,
      ingest: progress?.appliedBy.ingest ?? null,
      api: progress?.appliedBy.api ?? null,
    },
    completedAt: progress?.completedAt ?? null,
    held: progress?.held ?? [],
    rawEventsDeletedBy:
      RAW_EVENT_LIFETIME_MS === undefined
        ? null
        : new Date(row.requested_at.getTime() + RAW_EVENT_LIFETIME_MS).toISOString(),
  };
}

/** How long the intake topic can hold a raw event (its retention, with the same override setup.ts applied). */
const RAW_EVENT_LIFETIME_MS = rawRecordLifetimeMs(InquiryCreated.topic);

function newRedactionId(): string {
  return `red_${randomBytes(24)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 20)
    .padEnd(20, '0')}`;
}

function encodeCursor(row: RedactionRow): string {
  return Buffer.from(JSON.stringify([row.requested_at.toISOString(), row.redaction_id])).toString(
    'base64url',
  );
}

function decodeCursor(cursor: string): { requestedAt: string; redactionId: string } {
  try {
    const [requestedAt, redactionId] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof requestedAt === 'string' &&
      !Number.isNaN(Date.parse(requestedAt)) &&
      /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(requestedAt) &&
      typeof redactionId === 'string' &&
      /^red_[A-Za-z0-9]{20}$/.test(redactionId)
    )
      return { requestedAt, redactionId };
  } catch {
    // fall through
  }
  throw ApiError.badRequest('invalid cursor', { fields: [{ path: 'query.cursor', issue: 'invalid' }] });
}
