import { Injectable, Logger } from '@nestjs/common';
import {
  AuditEvent,
  type AuditEventV1,
  PiiRedacted,
  type PiiRedactedV1,
  type PiiRedactionAppliedV1,
  type PiiRedactionRequestedV1,
  type RedactionProgress,
  RedactionApplier,
  type RedactionReason,
} from '@veil/contracts';
import { confineTransaction, lockOrganizations as lockTenants, queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { MetricsService } from '@veil/platform/observability';
import { Counter } from 'prom-client';
import type { EntityManager } from 'typeorm';

/** Every service that must apply a redaction besides the vault (the consumers of `pii.redacted`). */
const APPLIERS = RedactionApplier.options;
const MAX_AUDIT_TARGETS = 1000;

export interface RedactionRequest {
  organizationId: string;
  data: PiiRedactionRequestedV1;
}

/** An inquiry to put in the ledger: its data key and ciphertexts are deleted in the same transaction. */
interface LedgerEntry {
  organizationId: string;
  inquiryId: string;
  redactionId: string;
  reason: RedactionReason;
  requestedBy: string;
  /** The subject's blind index when known before the inquiry is stored (a new inquiry under erasure). */
  subjectRef?: string;
}

interface RedactionRow {
  organization_id: string;
  redaction_id: string;
  applied_at: Date | null;
  completed_at: Date | null;
  inquiries: number;
}

/**
 * Crypto-shredding. A redaction deletes each inquiry's data key and ciphertexts (blind indexes go
 * with them) and writes its ledger row, ids only, in one transaction; `pii.redacted` (the ledger of
 * record, compacted and kept forever) and the audit event leave through the outbox of that same
 * transaction. The ledger is what makes a redaction absorbing: the vault stores nothing for a
 * ledgered inquiry again, whatever is replayed. A subject redaction stays open, and redacts the
 * subject's inquiries as they arrive, until every service has applied it.
 */
@Injectable()
export class RedactionService {
  private readonly logger = new Logger('Redaction');
  private readonly redacted: Counter<'reason'>;
  private readonly suppressed: Counter;

  constructor(
    private readonly outbox: OutboxWriter,
    metrics: MetricsService,
  ) {
    this.redacted = new Counter({
      name: 'veil_inquiries_redacted_total',
      help: 'Inquiries whose ciphertexts and data key the vault deleted, by reason.',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
    this.suppressed = new Counter({
      name: 'veil_redacted_store_suppressed_total',
      help: 'Stores refused because the inquiry is redacted (a replay, a redrive or a late duplicate).',
      registers: [metrics.registry],
    });
  }

  /** Applies requests (consumer transaction): records each, redacts what it names, completes what it can. */
  async apply(tx: EntityManager, requests: RedactionRequest[]): Promise<void> {
    const organizations = [...new Set(requests.map((r) => r.organizationId))].sort();
    await confineTransaction(tx, organizations);
    await lockOrganizations(tx, organizations);
    const received = await queryRows<{ organization_id: string; redaction_id: string }>(
      tx,
      `insert into redactions (organization_id, redaction_id, target_kind, inquiry_id, subject_ref, reason,
                               requested_by, requested_at, applied_at)
       select org, id, kind, inq, subj, reason, by, coalesce(at, now()), now()
         from json_to_recordset($1::json)
           as r(org text, id text, kind text, inq text, subj text, reason text, by text, at timestamptz)
       on conflict do nothing
       returning organization_id, redaction_id`,
      [
        JSON.stringify(
          requests.map(({ organizationId, data }) => ({
            org: organizationId,
            id: data.redactionId,
            kind: data.target.kind,
            inq: data.target.kind === 'inquiry' ? data.target.inquiryId : null,
            subj: data.target.kind === 'subject' ? data.target.subjectRef : null,
            reason: data.reason,
            by: data.requestedBy,
            at: data.requestedAt ?? null,
          })),
        ),
      ],
    );
    const fresh = new Set(received.map((r) => `${r.organization_id}\u0000${r.redaction_id}`));
    const todo = requests.filter((r) => fresh.has(`${r.organizationId}\u0000${r.data.redactionId}`));
    if (todo.length === 0) return;

    // An inquiry target is ledgered even when the vault does not hold it (yet): it must never be stored.
    const entries: LedgerEntry[] = todo
      .filter((r) => r.data.target.kind === 'inquiry')
      .map(({ organizationId, data }) => ({
        organizationId,
        inquiryId: (data.target as { inquiryId: string }).inquiryId,
        redactionId: data.redactionId,
        reason: data.reason,
        requestedBy: data.requestedBy,
      }));
    const subjects = todo.filter((r) => r.data.target.kind === 'subject');
    if (subjects.length > 0) {
      const found = await queryRows<{ org: string; inquiry_id: string; redaction_id: string }>(
        tx,
        `select distinct b.organization_id as org, b.inquiry_id, s.id as redaction_id
           from json_to_recordset($1::json) as s(org text, id text, subj text)
           join blind_indexes b on b.organization_id = s.org and b.kind = 'referenceId' and b.digest = s.subj`,
        [
          JSON.stringify(
            subjects.map(({ organizationId, data }) => ({
              org: organizationId,
              id: data.redactionId,
              subj: (data.target as { subjectRef: string }).subjectRef,
            })),
          ),
        ],
      );
      const byId = new Map(subjects.map((s) => [`${s.organizationId}\u0000${s.data.redactionId}`, s.data]));
      for (const f of found) {
        const data = byId.get(`${f.org}\u0000${f.redaction_id}`)!;
        entries.push({
          organizationId: f.org,
          inquiryId: f.inquiry_id,
          redactionId: f.redaction_id,
          reason: data.reason,
          requestedBy: data.requestedBy,
        });
      }
    }
    await this.redact(tx, await this.withoutHeld(tx, entries));
    await this.complete(
      tx,
      todo.map((r) => ({ organizationId: r.organizationId, redactionId: r.data.redactionId })),
    );
  }

  /** Leaves out the entries under an active legal hold, recording each skip (with its hold) and auditing it. */
  private async withoutHeld(tx: EntityManager, entries: LedgerEntry[]): Promise<LedgerEntry[]> {
    if (entries.length === 0) return entries;
    const holds = await activeHolds(tx, entries);
    if (holds.size === 0) return entries;
    const skipped = entries.filter((e) => holds.has(key(e.organizationId, e.inquiryId)));
    await tx.query(
      `insert into redaction_skips (organization_id, redaction_id, inquiry_id, hold_id)
       select org, id, inq, hold from json_to_recordset($1::json) as r(org text, id text, inq text, hold text)
       on conflict do nothing`,
      [
        JSON.stringify(
          skipped.map((e) => ({
            org: e.organizationId,
            id: e.redactionId,
            inq: e.inquiryId,
            hold: holds.get(key(e.organizationId, e.inquiryId))!.holdId,
          })),
        ),
      ],
    );
    await this.outbox.enqueueMany(
      tx,
      AuditEvent,
      skipped.map((e) => {
        const hold = holds.get(key(e.organizationId, e.inquiryId))!;
        return {
          organizationId: e.organizationId,
          data: {
            action: 'pii.redaction.held',
            actor: { type: 'service' as const, id: 'vault' },
            outcome: 'denied' as const,
            targets: { inquiryIds: [e.inquiryId], resourceIds: [e.redactionId, hold.holdId] },
            purpose: `legal hold: ${hold.basis}`.slice(0, 256),
          },
        };
      }),
      { ordered: false },
    );
    return entries.filter((e) => !holds.has(key(e.organizationId, e.inquiryId)));
  }

  /**
   * Deletes the data keys and ciphertexts of `entries` and ledgers them (an inquiry already in the
   * ledger keeps its first redaction). Publishes `pii.redacted` and audits, in `tx`.
   */
  async redact(tx: EntityManager, entries: LedgerEntry[]): Promise<PiiRedactedV1[]> {
    if (entries.length === 0) return [];
    const rows = await queryRows<{
      organization_id: string;
      inquiry_id: string;
      redaction_id: string;
      attributes: string[];
      redacted_at: Date;
    }>(
      tx,
      `with wanted as (
         select distinct on (org, inq) org, inq, id from json_to_recordset($1::json) as r(org text, inq text, id text)
          order by org, inq, id
       ),
       shredded as (
         delete from data_keys d using wanted w
          where d.organization_id = w.org and d.inquiry_id = w.inq
            and not exists (select 1 from redacted_inquiries l where l.organization_id = w.org and l.inquiry_id = w.inq)
         returning d.organization_id, d.inquiry_id
       ),
       attrs as (
         select f.organization_id, f.inquiry_id, f.attributes from encrypted_fields f
           join shredded s on s.organization_id = f.organization_id and s.inquiry_id = f.inquiry_id
       )
       insert into redacted_inquiries (organization_id, inquiry_id, redaction_id, attributes, redacted_at)
       select w.org, w.inq, w.id, coalesce(a.attributes, '{}'), now()
         from wanted w left join attrs a on a.organization_id = w.org and a.inquiry_id = w.inq
       on conflict do nothing
       returning organization_id, inquiry_id, redaction_id, attributes, redacted_at`,
      [JSON.stringify(entries.map((e) => ({ org: e.organizationId, inq: e.inquiryId, id: e.redactionId })))],
    );
    // encrypted_fields rows went with their data key (on delete cascade), read before in the same snapshot.
    const meta = new Map<string, LedgerEntry>();
    for (const e of [...entries].sort((x, y) => (x.redactionId < y.redactionId ? -1 : 1)))
      if (!meta.has(key(e.organizationId, e.inquiryId))) meta.set(key(e.organizationId, e.inquiryId), e);
    const events = rows.map((row) => {
      const entry = meta.get(`${row.organization_id}\u0000${row.inquiry_id}`)!;
      return {
        organizationId: row.organization_id,
        data: {
          redactionId: row.redaction_id,
          inquiryId: row.inquiry_id,
          reason: entry.reason,
          redactedAt: row.redacted_at.toISOString(),
          requestedBy: entry.requestedBy,
          attributesRedacted: row.attributes as PiiRedactedV1['attributesRedacted'],
        },
      };
    });
    await this.outbox.enqueueMany(tx, PiiRedacted, events);
    await this.outbox.enqueueMany(tx, AuditEvent, this.auditEvents(events), { ordered: false });
    for (const e of events) this.redacted.inc({ reason: e.data.reason });
    return events.map((e) => e.data);
  }

  /**
   * For a store: which of these inquiries must not be stored, because they are in the ledger or
   * belong to a subject under erasure (those are ledgered now, under that redaction). `subjectRefs`
   * computes the reference-id blind indexes, only when an open subject redaction needs them.
   */
  async screen(
    tx: EntityManager,
    items: { organizationId: string; inquiryId: string; occurredAt?: string }[],
    subjectRefs: (organizationIds: string[]) => Promise<Map<string, string>>,
  ): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const ledgered = await queryRows<{ organization_id: string; inquiry_id: string }>(
      tx,
      `select l.organization_id, l.inquiry_id from redacted_inquiries l
         join unnest($1::text[], $2::text[]) as w(org, inq) on l.organization_id = w.org and l.inquiry_id = w.inq`,
      [items.map((i) => i.organizationId), items.map((i) => i.inquiryId)],
    );
    const blocked = new Set(ledgered.map((r) => key(r.organization_id, r.inquiry_id)));
    if (blocked.size > 0) {
      this.suppressed.inc(blocked.size);
      const byOrg = groupBy(
        items.filter((i) => blocked.has(key(i.organizationId, i.inquiryId))),
        (i) => i.organizationId,
      );
      await this.outbox.enqueueMany(
        tx,
        AuditEvent,
        [...byOrg].map(([organizationId, list]) => ({
          organizationId,
          data: {
            action: 'pii.store_suppressed',
            actor: { type: 'service' as const, id: 'vault' },
            outcome: 'denied' as const,
            targets: { inquiryIds: list.slice(0, MAX_AUDIT_TARGETS).map((i) => i.inquiryId) },
            purpose: 'the inquiry is redacted: a replay, redrive or late duplicate stored nothing',
          },
        })),
        { ordered: false },
      );
    }

    // Subjects under erasure: every erasure still open, and (for good) every erasure requested
    // after an inquiry's own event happened, so that a late or redriven event of an erased person
    // is not stored once the erasure has completed.
    const occurred = items.map((i) => i.occurredAt).filter((t): t is string => t !== undefined);
    const earliest =
      occurred.length > 0 ? occurred.reduce((x, y) => (Date.parse(x) < Date.parse(y) ? x : y)) : null;
    const open = await queryRows<{
      organization_id: string;
      redaction_id: string;
      subject_ref: string;
      reason: RedactionReason;
      requested_by: string;
      requested_at: Date;
      completed_at: Date | null;
    }>(
      tx,
      `select organization_id, redaction_id, subject_ref, reason, requested_by, requested_at, completed_at from redactions
        where target_kind = 'subject' and organization_id = any($1::text[])
          and (completed_at is null or requested_at >= $2::timestamptz)
        order by organization_id, redaction_id
        for share`, // an inquiry added to an open one must not miss its completion (see acknowledge)
      [[...new Set(items.map((i) => i.organizationId))], earliest],
    );
    if (open.length === 0) return blocked;
    const refs = await subjectRefs([...new Set(open.map((o) => o.organization_id))]);
    const entries: LedgerEntry[] = [];
    for (const item of items) {
      const k = key(item.organizationId, item.inquiryId);
      const ref = refs.get(k);
      const redaction =
        ref &&
        open.find(
          (o) =>
            o.organization_id === item.organizationId &&
            o.subject_ref === ref &&
            (o.completed_at === null ||
              (item.occurredAt !== undefined && Date.parse(item.occurredAt) <= o.requested_at.getTime())),
        );
      if (!redaction || blocked.has(k)) continue;
      entries.push({
        organizationId: item.organizationId,
        inquiryId: item.inquiryId,
        redactionId: redaction.redaction_id,
        reason: redaction.reason,
        requestedBy: redaction.requested_by,
        subjectRef: ref,
      });
    }
    for (const entry of await this.withoutHeld(tx, entries))
      blocked.add(key(entry.organizationId, entry.inquiryId));
    await this.redact(
      tx,
      entries.filter((e) => blocked.has(key(e.organizationId, e.inquiryId))),
    );
    return blocked;
  }

  /** Records other services' acknowledgements and completes the redactions they finish. */
  async acknowledge(
    tx: EntityManager,
    acks: { organizationId: string; data: PiiRedactionAppliedV1 }[],
  ): Promise<void> {
    await confineTransaction(
      tx,
      acks.map((a) => a.organizationId),
    );
    // An acknowledgement counts for the redaction that ledgered the inquiry. Its row is locked
    // first: acknowledgements of one redaction that commit concurrently would otherwise each miss
    // the other's, and none would complete it.
    const owners = await queryRows<{ organization_id: string; redaction_id: string }>(
      tx,
      `select r.organization_id, r.redaction_id from redactions r
        where (r.organization_id, r.redaction_id) in (
                select l.organization_id, l.redaction_id from redacted_inquiries l
                  join unnest($1::text[], $2::text[]) as w(org, inq) on l.organization_id = w.org and l.inquiry_id = w.inq)
        order by r.organization_id, r.redaction_id
        for update`,
      [acks.map((a) => a.organizationId), acks.map((a) => a.data.inquiryId)],
    );
    await tx.query(
      `insert into redaction_acks (organization_id, inquiry_id, service, redaction_id, applied_at)
       select org, inq, svc, id, at from json_to_recordset($1::json)
         as r(org text, inq text, svc text, id text, at timestamptz)
       on conflict do nothing`,
      [
        JSON.stringify(
          acks.map(({ organizationId, data }) => ({
            org: organizationId,
            inq: data.inquiryId,
            svc: data.service,
            id: data.redactionId,
            at: data.appliedAt,
          })),
        ),
      ],
    );
    await this.complete(
      tx,
      owners.map((o) => ({ organizationId: o.organization_id, redactionId: o.redaction_id })),
    );
  }

  /** Completes, and audits, each of these redactions that the vault applied and every service acknowledged. */
  private async complete(
    tx: EntityManager,
    ids: { organizationId: string; redactionId: string }[],
  ): Promise<void> {
    if (ids.length === 0) return;
    const done = await queryRows<{ organization_id: string; redaction_id: string; inquiries: number }>(
      tx,
      `update redactions r set completed_at = now()
         from unnest($1::text[], $2::text[]) as w(org, id)
        where r.organization_id = w.org and r.redaction_id = w.id
          and r.applied_at is not null and r.completed_at is null
          and not exists (
            select 1 from redacted_inquiries l cross join unnest($3::text[]) as s(service)
             where l.organization_id = r.organization_id and l.redaction_id = r.redaction_id
               and not exists (select 1 from redaction_acks a
                                where a.organization_id = l.organization_id and a.inquiry_id = l.inquiry_id
                                  and a.service = s.service))
        returning r.organization_id, r.redaction_id,
                  (select count(*)::int from redacted_inquiries l
                    where l.organization_id = r.organization_id and l.redaction_id = r.redaction_id) as inquiries`,
      [ids.map((i) => i.organizationId), ids.map((i) => i.redactionId), APPLIERS],
    );
    if (done.length === 0) return;
    await this.outbox.enqueueMany(
      tx,
      AuditEvent,
      done.map((d) => ({
        organizationId: d.organization_id,
        data: {
          action: 'pii.redaction.completed',
          actor: { type: 'service' as const, id: 'vault' },
          outcome: 'allowed' as const,
          targets: { resourceIds: [d.redaction_id] },
          purpose: `${d.inquiries} inquiries redacted and applied by every service`,
        },
      })),
      { ordered: false },
    );
    this.logger.log({ msg: 'redactions completed', count: done.length });
  }

  /** Progress of the organization's redactions among `redactionIds` (the unknown ones are left out). */
  async progress(
    tx: EntityManager,
    organizationId: string,
    redactionIds: string[],
  ): Promise<RedactionProgress[]> {
    const rows = await queryRows<RedactionRow & { applied: Record<string, string | null> }>(
      tx,
      `select r.organization_id, r.redaction_id, r.applied_at, r.completed_at,
              (select count(*)::int from redacted_inquiries l
                where l.organization_id = r.organization_id and l.redaction_id = r.redaction_id) as inquiries,
              (select jsonb_object_agg(s.service, (
                        select case when bool_and(a.applied_at is not null) then max(a.applied_at) end
                          from redacted_inquiries l
                          left join redaction_acks a on a.organization_id = l.organization_id
                                                    and a.inquiry_id = l.inquiry_id and a.service = s.service
                         where l.organization_id = r.organization_id and l.redaction_id = r.redaction_id))
                 from unnest($3::text[]) as s(service)) as applied
         from redactions r
        where r.organization_id = $1 and r.redaction_id = any($2::text[])`,
      [organizationId, redactionIds, APPLIERS],
    );
    const skips = await queryRows<{
      redaction_id: string;
      inquiry_id: string;
      hold_id: string;
      basis: string;
    }>(
      tx,
      `select s.redaction_id, s.inquiry_id, s.hold_id, h.basis
         from redaction_skips s join legal_holds h on h.organization_id = s.organization_id and h.hold_id = s.hold_id
        where s.organization_id = $1 and s.redaction_id = any($2::text[])
        order by s.inquiry_id limit 1000`,
      [organizationId, redactionIds],
    );
    return rows.map((r) => ({
      held: skips
        .filter((s) => s.redaction_id === r.redaction_id)
        .map((s) => ({ inquiryId: s.inquiry_id, holdId: s.hold_id, basis: s.basis })),
      redactionId: r.redaction_id,
      status: r.completed_at ? 'completed' : 'in_progress',
      inquiriesRedacted: r.inquiries,
      vaultAppliedAt: r.applied_at?.toISOString() ?? null,
      appliedBy: Object.fromEntries(
        APPLIERS.map((s) => {
          const at = r.applied[s];
          // no inquiries: nothing to apply, done when the vault is
          return [
            s,
            at
              ? new Date(at).toISOString()
              : r.inquiries === 0
                ? (r.applied_at?.toISOString() ?? null)
                : null,
          ];
        }),
      ) as RedactionProgress['appliedBy'],
      completedAt: r.completed_at?.toISOString() ?? null,
    }));
  }

  private auditEvents(events: { organizationId: string; data: PiiRedactedV1 }[]) {
    const byRedaction = groupBy(events, (e) => `${e.organizationId}\u0000${e.data.redactionId}`);
    const out: { organizationId: string; data: AuditEventV1 }[] = [];
    for (const list of byRedaction.values()) {
      const first = list[0]!;
      for (let i = 0; i < list.length; i += MAX_AUDIT_TARGETS) {
        const chunk = list.slice(i, i + MAX_AUDIT_TARGETS);
        out.push({
          organizationId: first.organizationId,
          data: {
            action: 'pii.redacted',
            actor: actorOf(first.data.reason, first.data.requestedBy ?? 'vault'),
            outcome: 'allowed',
            targets: {
              inquiryIds: chunk.map((e) => e.data.inquiryId),
              resourceIds: [first.data.redactionId],
              attributes: [...new Set(chunk.flatMap((e) => e.data.attributesRedacted))],
            },
            purpose: `redaction (${first.data.reason}): ciphertexts and data keys deleted`,
          },
        });
      }
    }
    return out;
  }
}

/**
 * The active legal holds over these inquiries: on the inquiry itself, or on its subject (the blind
 * index of its reference id). One hold per inquiry is enough to name.
 */
export async function activeHolds(
  tx: EntityManager,
  inquiries: { organizationId: string; inquiryId: string; subjectRef?: string }[],
): Promise<Map<string, { holdId: string; basis: string }>> {
  const rows = await queryRows<{ org: string; inq: string; hold_id: string; basis: string }>(
    tx,
    `select distinct on (w.org, w.inq) w.org, w.inq, h.hold_id, h.basis
       from unnest($1::text[], $2::text[], $3::text[]) as w(org, inq, ref)
       join legal_holds h on h.organization_id = w.org and h.released_at is null
                          and (h.expires_at is null or h.expires_at > now())
      where h.inquiry_id = w.inq
         or (h.target_kind = 'subject' and h.subject_ref = w.ref)
         or (h.target_kind = 'subject' and exists (
               select 1 from blind_indexes b
                where b.organization_id = w.org and b.inquiry_id = w.inq
                  and b.kind = 'referenceId' and b.digest = h.subject_ref))
      order by w.org, w.inq, h.created_at`,
    [
      inquiries.map((i) => i.organizationId),
      inquiries.map((i) => i.inquiryId),
      inquiries.map((i) => i.subjectRef ?? null),
    ],
  );
  return new Map(rows.map((r) => [key(r.org, r.inq), { holdId: r.hold_id, basis: r.basis }]));
}

/** Lock space of redactions per organization: redactions take it exclusively, stores shared. */
const REDACTION_LOCKS = 1001;

/**
 * Stores of these organizations take the same lock shared (VaultStore): a store cannot check the
 * ledger, then insert an inquiry that a redaction ledgered in between.
 */
export function lockOrganizations(
  tx: EntityManager,
  organizationIds: string[],
  mode: 'shared' | 'exclusive' = 'exclusive',
): Promise<void> {
  return lockTenants(tx, REDACTION_LOCKS, organizationIds, mode);
}

function actorOf(reason: RedactionReason, requestedBy: string): AuditEventV1['actor'] {
  return reason === 'api_request'
    ? { type: 'api_key', id: requestedBy }
    : { type: 'service', id: requestedBy };
}

function key(organizationId: string, inquiryId: string): string {
  return `${organizationId}\u0000${inquiryId}`;
}

function groupBy<T>(items: T[], by: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(by(item), [...(out.get(by(item)) ?? []), item]);
  return out;
}
