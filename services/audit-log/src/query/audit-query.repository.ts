import { Injectable } from '@nestjs/common';
import type {
  AuditLogEntry,
  AuditLogExportedEntry,
  AuditLogFoundEntry,
  AuditLogSearchRequest,
} from '@veil/contracts';
import { DataSource } from 'typeorm';

interface EntryRow {
  chain_id: string;
  seq: string;
  occurred_at: Date;
  appended_at: Date;
  entry: string;
  leaf_hash: Buffer;
}

function toFound(row: EntryRow): AuditLogFoundEntry {
  const logged = JSON.parse(row.entry) as AuditLogEntry;
  const { event } = logged;
  return {
    chain: logged.chain,
    seq: logged.seq,
    eventId: logged.eventId,
    organizationId: logged.organizationId,
    occurredAt: logged.occurredAt,
    appendedAt: row.appended_at.toISOString(),
    producer: logged.producer,
    action: event.action,
    actor: event.actor,
    outcome: event.outcome,
    targets: event.targets,
    ...(event.purpose !== undefined ? { purpose: event.purpose } : {}),
    ...(event.change ? { change: event.change } : {}),
    ...(event.requestId ? { requestId: event.requestId } : {}),
    entry: row.entry,
    leafHash: row.leaf_hash.toString('hex'),
  };
}

/** Read side of the log for one organization at a time; every statement names the organization. */
@Injectable()
export class AuditQueryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Entries about the organization, newest first, continuing after `after`. */
  async search(request: AuditLogSearchRequest): Promise<AuditLogFoundEntry[]> {
    const f = request.filters;
    const rows = (await this.dataSource.query(
      `select chain_id, seq, occurred_at, appended_at, entry, leaf_hash from entries
        where organization_id = $1 and entry is not null
          and ($2::text is null or actor_type = $2)
          and ($3::text is null or actor_id = $3)
          and ($4::text is null or action = $4)
          and ($5::text is null or outcome = $5)
          and ($6::text is null or inquiry_ids @> array[$6::text])
          and ($7::text is null or subject_refs @> array[$7::text])
          and ($8::timestamptz is null or occurred_at >= $8)
          and ($9::timestamptz is null or occurred_at < $9)
          and ($10::timestamptz is null or (occurred_at, chain_id, seq) < ($10, $11::text, $12::bigint))
        order by occurred_at desc, chain_id desc, seq desc
        limit $13`,
      [
        request.organizationId,
        f.actorType ?? null,
        f.actorId ?? null,
        f.action ?? null,
        f.outcome ?? null,
        f.inquiryId ?? null,
        f.subjectRef ?? null,
        f.occurredFrom ?? null,
        f.occurredTo ?? null,
        request.after?.occurredAt ?? null,
        request.after?.chain ?? null,
        request.after?.seq ?? null,
        request.limit,
      ],
    )) as EntryRow[];
    return rows.map(toFound);
  }

  /** One entry by event id, if it is about the organization. */
  async byEventId(organizationId: string, eventId: string): Promise<AuditLogFoundEntry | undefined> {
    const [row] = (await this.dataSource.query(
      `select chain_id, seq, occurred_at, appended_at, entry, leaf_hash from entries
        where event_id = $1 and organization_id = $2 and entry is not null`,
      [eventId, organizationId],
    )) as EntryRow[];
    return row && toFound(row);
  }

  /**
   * A chain's entries in order after `afterSeq`, as exported: position, exact bytes and the leaf
   * hash the log recorded (so a verifier can name an entry edited in place), or for an entry past
   * retention its position and leaf hash only (what verification still needs).
   */
  async chainEntries(chain: string, afterSeq: number, limit: number): Promise<AuditLogExportedEntry[]> {
    const rows = (await this.dataSource.query(
      `select seq, entry, encode(leaf_hash, 'hex') as leaf_hash
         from entries where chain_id = $1 and seq > $2 order by seq limit $3`,
      [chain, afterSeq, limit],
    )) as { seq: string; entry: string | null; leaf_hash: string }[];
    return rows.map((r) =>
      r.entry === null
        ? { seq: Number(r.seq), leafHash: r.leaf_hash }
        : { seq: Number(r.seq), entry: r.entry, leafHash: r.leaf_hash },
    );
  }
}
