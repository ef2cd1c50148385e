import { type AuditLogEntry, ChainVerifier, type Problem } from '@veil/contracts';
import type { DataSource } from 'typeorm';

import { CheckpointStore } from '../checkpoints/checkpoint-store';

export interface ChainReport {
  chain: string;
  entries: number;
  checkpointsVerified: number;
  /** The first problem found; the chain is not trusted beyond it. */
  problem?: Problem;
}

export interface VerificationReport {
  ok: boolean;
  chains: ChainReport[];
  entries: number;
  seconds: number;
}

interface EntryRow {
  seq: string;
  event_id: string;
  organization_id: string;
  action: string;
  actor_type: string;
  actor_id: string;
  outcome: string;
  inquiry_ids: string[];
  request_id: string | null;
  occurred_at: Date;
  entry: string;
  leaf_hash: Buffer;
}

const PAGE = 10_000;

/**
 * The full check: recomputes every chain from its entries and compares every signed checkpoint.
 * It trusts nothing in the database but the entries' own bytes and the public key: columns are
 * checked against the entry they index, positions against the entry's own sequence number, and
 * roots against signatures.
 */
export class LogVerifier {
  constructor(
    private readonly dataSource: DataSource,
    private readonly publicKeyPem: string,
  ) {}

  async verifyAll(chains?: string[]): Promise<VerificationReport> {
    const started = performance.now();
    const names =
      chains ??
      (
        (await this.dataSource.query(`select chain_id from chains order by chain_id`)) as {
          chain_id: string;
        }[]
      ).map((r) => r.chain_id);
    const reports: ChainReport[] = [];
    for (const chain of names) reports.push(await this.verifyChain(chain));
    return {
      ok: reports.every((r) => !r.problem),
      chains: reports,
      entries: reports.reduce((n, r) => n + r.entries, 0),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
  }

  async verifyChain(chain: string): Promise<ChainReport> {
    const checkpoints = await new CheckpointStore(this.dataSource).list(chain);
    const replay = new ChainVerifier(chain, checkpoints, this.publicKeyPem);
    const done = (problem?: Problem): ChainReport => ({
      chain,
      entries: replay.frontier.size,
      checkpointsVerified: replay.checkpointsVerified,
      ...(problem ? { problem } : {}),
    });
    let after = -1;
    for (;;) {
      const rows = (await this.dataSource.query(
        `select seq, event_id, organization_id, action, actor_type, actor_id, outcome, inquiry_ids, request_id,
                occurred_at, entry, leaf_hash
           from entries where chain_id = $1 and seq > $2 order by seq limit $3`,
        [chain, after, PAGE],
      )) as EntryRow[];
      for (const row of rows) {
        const problem = replay.add(Number(row.seq), row.entry, row.leaf_hash) ?? columnMismatch(row);
        if (problem) return done(problem);
      }
      if (rows.length < PAGE) break;
      after = Number(rows[rows.length - 1]!.seq);
    }
    const unfinished = replay.finish();
    if (unfinished) return done(unfinished);
    const [head] = (await this.dataSource.query(`select size, root_hash from chains where chain_id = $1`, [
      chain,
    ])) as { size: string; root_hash: Buffer }[];
    if (!head || Number(head.size) !== replay.frontier.size || !head.root_hash.equals(replay.root())) {
      return done({
        kind: 'head_mismatch',
        seq: replay.frontier.size,
        message: `the chain head (size ${head?.size ?? '?'}) does not match its ${replay.frontier.size} entries`,
      });
    }
    return done();
  }
}

/** The indexed columns must say what the entry says: queries read them, the hash covers the entry. */
function columnMismatch(row: EntryRow): Problem | undefined {
  const entry = JSON.parse(row.entry) as AuditLogEntry; // parsed fine already: replay.add checked it
  const e = entry.event;
  const checks: [string, unknown, unknown][] = [
    ['event_id', row.event_id, entry.eventId],
    ['organization_id', row.organization_id, entry.organizationId],
    ['action', row.action, e.action],
    ['actor_type', row.actor_type, e.actor.type],
    ['actor_id', row.actor_id, e.actor.id],
    ['outcome', row.outcome, e.outcome],
    ['request_id', row.request_id, e.requestId ?? null],
    ['occurred_at', row.occurred_at.toISOString(), new Date(entry.occurredAt).toISOString()],
    ['inquiry_ids', JSON.stringify(row.inquiry_ids), JSON.stringify(e.targets.inquiryIds ?? [])],
  ];
  const column = checks.find(([, a, b]) => a !== b)?.[0];
  if (!column) return undefined;
  const seq = Number(row.seq);
  return {
    kind: 'column_mismatch',
    seq,
    eventId: row.event_id,
    message: `entry ${seq}: column ${column} differs from the logged entry`,
  };
}
