import { type AuditLogEntry, ChainVerifier, type Problem } from '@veil/contracts';
import type { DataSource } from 'typeorm';

import { CheckpointStore } from '../checkpoints/checkpoint-store';

export interface ChainReport {
  chain: string;
  entries: number;
  /** Entries past retention: content erased, leaf hash kept and covered by the checkpoints. */
  prunedEntries: number;
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

/** One stored entry, its stored leaf hash compared, its indexed columns in one string. */
interface EntryRow {
  seq: string;
  /** Null once the entry is past retention; then `pruned_leaf` is its stored leaf hash. */
  entry: string | null;
  pruned_leaf: Buffer | null;
  leaf_ok: boolean;
  columns: string;
}

/** The indexed columns (what queries read), as one JSON array per row: unambiguous whatever they hold. */
const COLUMNS_SQL = `json_build_array(event_id, organization_id, action, actor_type, actor_id, outcome, request_id,
  (extract(epoch from occurred_at) * 1000000)::bigint, inquiry_ids, subject_refs)::text`;

type Columns = [
  eventId: string,
  organizationId: string,
  action: string,
  actorType: string,
  actorId: string,
  outcome: string,
  requestId: string | null,
  occurredAtMicros: number,
  inquiryIds: string[],
  subjectRefs: string[],
];

const COLUMN_NAMES = [
  'event_id',
  'organization_id',
  'action',
  'actor_type',
  'actor_id',
  'outcome',
  'request_id',
  'occurred_at',
  'inquiry_ids',
  'subject_refs',
];

/** What the columns should hold, from a parsed entry. */
function columnsOf(entry: AuditLogEntry): Columns {
  const e = entry.event;
  return [
    entry.eventId,
    entry.organizationId,
    e.action,
    e.actor.type,
    e.actor.id,
    e.outcome,
    e.requestId ?? null,
    Date.parse(entry.occurredAt) * 1000,
    e.targets.inquiryIds ?? [],
    e.targets.subjectRefs ?? [],
  ];
}

const PAGE = 10_000;
const CHAINS_AT_ONCE = 3;

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
    // a few chains at a time: one is hashed while the others' next pages are read
    const reports: ChainReport[] = new Array<ChainReport>(names.length);
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const i = next++;
        reports[i] = await this.verifyChain(names[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CHAINS_AT_ONCE, names.length) }, worker));
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
      prunedEntries: replay.pruned,
      checkpointsVerified: replay.checkpointsVerified,
      ...(problem ? { problem } : {}),
    });
    const page = (after: number) =>
      this.dataSource.query(
        `select seq, entry, case when entry is null then leaf_hash end as pruned_leaf,
                leaf_hash = sha256('\\x00'::bytea || convert_to(entry, 'UTF8')) as leaf_ok,
                ${COLUMNS_SQL} as columns
           from entries where chain_id = $1 and seq > $2 order by seq limit $3`,
        [chain, after, PAGE],
      ) as Promise<EntryRow[]>;
    let next = page(-1);
    for (;;) {
      const rows = await next;
      // PostgreSQL reads the next page while this one is hashed
      if (rows.length === PAGE) next = page(Number(rows[rows.length - 1]!.seq));
      for (const row of rows) {
        const problem = check(replay, row);
        if (problem) {
          next.catch(() => undefined); // the page read ahead is no longer needed
          return done(problem);
        }
      }
      if (rows.length < PAGE) break;
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

/** Replays one entry; then its indexed columns must say what the entry says. */
function check(replay: ChainVerifier, row: EntryRow): Problem | undefined {
  const seq = Number(row.seq);
  if (row.entry === null) return replay.addPruned(seq, row.pruned_leaf!);
  let entry: AuditLogEntry;
  try {
    entry = JSON.parse(row.entry) as AuditLogEntry;
  } catch {
    return replay.add(seq, row.entry); // names the gap before it, or the entry that is not JSON
  }
  const problem = replay.add(seq, row.entry, undefined, { parsed: entry, storedLeafMatches: row.leaf_ok });
  if (problem) return problem;
  const stored = JSON.parse(row.columns) as Columns;
  const differs = columnsOf(entry).findIndex(
    (value, i) => JSON.stringify(value) !== JSON.stringify(stored[i]),
  );
  if (differs < 0) return undefined;
  return {
    kind: 'column_mismatch',
    seq,
    eventId: entry.eventId,
    message: `entry ${seq}: column ${COLUMN_NAMES[differs]} differs from the logged entry`,
  };
}
