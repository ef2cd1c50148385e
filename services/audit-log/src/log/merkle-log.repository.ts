import { Injectable } from '@nestjs/common';
import {
  appendLeaf,
  type AuditLogEntry,
  chainFor,
  EMPTY_ROOT,
  encodeEntry,
  type Frontier,
  frontierRoot,
  leafHash,
  type NodeKey,
  OPERATOR_CHAIN,
} from '@veil/contracts';
import type { EntityManager } from 'typeorm';

export type NewEntry = Omit<AuditLogEntry, 'v' | 'chain' | 'seq'>;

/**
 * Appends audit events to their chains. Each chain's head row is locked for the append, so appends
 * to one chain take turns while different chains (organizations) append in parallel; the primary
 * key (chain_id, seq) makes a fork impossible even if that lock were skipped.
 */
@Injectable()
export class MerkleLogRepository {
  /**
   * Appends the events not yet in the log (idempotent by event id); returns how many were new.
   * An event always belongs to the same chain, and its chain is locked before the log is asked
   * whether it holds the event: two appenders of one event take turns, and the second skips it.
   */
  async append(tx: EntityManager, events: NewEntry[]): Promise<number> {
    const byChain = new Map<string, Map<string, NewEntry>>();
    for (const event of events) {
      const chain = chainFor(event.organizationId, event.event.actor);
      if (!byChain.has(chain)) byChain.set(chain, new Map());
      byChain.get(chain)!.set(event.eventId, event);
    }
    let appended = 0;
    // A fixed lock order, so two appenders never wait on each other in a cycle; the operator chain,
    // which every partition's batches may touch, last, so its row lock is held the shortest time.
    const order = [...byChain.keys()].sort((a, b) =>
      a === OPERATOR_CHAIN ? 1 : b === OPERATOR_CHAIN ? -1 : a < b ? -1 : a > b ? 1 : 0,
    );
    for (const chain of order) appended += await this.appendToChain(tx, chain, byChain.get(chain)!);
    return appended;
  }

  private async appendToChain(
    tx: EntityManager,
    chain: string,
    batch: Map<string, NewEntry>,
  ): Promise<number> {
    const lockHead = async () =>
      (
        (await tx.query(`select size, peaks from chains where chain_id = $1 for update`, [chain])) as {
          size: string;
          peaks: Buffer[];
        }[]
      )[0];
    let head = await lockHead();
    if (!head) {
      const first = batch.values().next().value!;
      await tx.query(
        `insert into chains (chain_id, organization_id, root_hash) values ($1, $2, $3) on conflict do nothing`,
        [chain, chain === OPERATOR_CHAIN ? null : first.organizationId, EMPTY_ROOT],
      );
      head = await lockHead();
    }
    const known = (await tx.query(`select event_id from entries where event_id = any($1::text[])`, [
      [...batch.keys()],
    ])) as { event_id: string }[];
    for (const { event_id } of known) batch.delete(event_id);
    if (batch.size === 0) return 0;
    const events = [...batch.values()];
    const frontier: Frontier = { size: Number(head!.size), peaks: head!.peaks };
    const rows: Record<string, unknown>[] = [];
    const nodes: (NodeKey & { hash: Buffer })[] = [];
    for (const e of events) {
      const seq = frontier.size;
      const entry = encodeEntry({ v: 1, chain, seq, ...e });
      const leaf = leafHash(entry);
      nodes.push(...appendLeaf(frontier, leaf));
      rows.push({
        seq,
        event_id: e.eventId,
        organization_id: e.organizationId,
        action: e.event.action,
        actor_type: e.event.actor.type,
        actor_id: e.event.actor.id,
        outcome: e.event.outcome,
        inquiry_ids: e.event.targets.inquiryIds ?? [],
        subject_refs: e.event.targets.subjectRefs ?? [],
        request_id: e.event.requestId ?? null,
        occurred_at: e.occurredAt,
        entry,
        leaf_hash: leaf.toString('hex'),
      });
    }
    // One statement writes the entries, the finished subtrees and the new head: one round trip.
    await tx.query(
      `with new_entries as (
         insert into entries (chain_id, seq, event_id, organization_id, action, actor_type, actor_id, outcome,
                              inquiry_ids, subject_refs, request_id, occurred_at, entry, leaf_hash)
         select $1, r.seq, r.event_id, r.organization_id, r.action, r.actor_type, r.actor_id, r.outcome,
                r.inquiry_ids, r.subject_refs, r.request_id, r.occurred_at, r.entry, decode(r.leaf_hash, 'hex')
           from jsonb_to_recordset($2::jsonb) as r(seq bigint, event_id text, organization_id text, action text,
                actor_type text, actor_id text, outcome text, inquiry_ids text[], subject_refs text[],
                request_id text, occurred_at timestamptz, entry text, leaf_hash text)
       ), new_nodes as (
         insert into nodes (chain_id, level, idx, hash)
         select $1, n.level, n.idx, decode(n.hash, 'hex')
           from jsonb_to_recordset($3::jsonb) as n(level smallint, idx bigint, hash text)
       )
       update chains set size = $4, peaks = $5, root_hash = $6, updated_at = now() where chain_id = $1`,
      [
        chain,
        JSON.stringify(rows),
        JSON.stringify(nodes.map((n) => ({ level: n.level, idx: n.index, hash: n.hash.toString('hex') }))),
        frontier.size,
        frontier.peaks,
        frontierRoot(frontier),
      ],
    );
    return events.length;
  }
}
