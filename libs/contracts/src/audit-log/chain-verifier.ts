import {
  type AuditLogEntry,
  type Checkpoint,
  malformedCheckpoint,
  verifyCheckpointSignature,
} from './log-format';
import { appendLeaf, type Frontier, frontierRoot, HASH_SIZE, isHash, leafHash, parseHashHex } from './merkle';

export type ProblemKind =
  | 'missing_entry'
  | 'entry_misplaced'
  | 'column_mismatch'
  | 'leaf_hash_mismatch'
  | 'checkpoint_root_mismatch'
  | 'checkpoint_signature_invalid'
  | 'checkpoint_malformed'
  | 'checkpoint_beyond_log'
  | 'entry_erased'
  | 'checkpoint_out_of_order'
  | 'head_mismatch';

/**
 * Entries may be erased at the end of their retention, never sooner than this: an erased entry
 * must be covered by a signed checkpoint at least this old (the database refuses younger cutoffs).
 */
export const MIN_RETENTION_DAYS = 30;

/**
 * Checkpoints are signed as a chain grows, so a larger one is never signed much earlier than a
 * smaller one; replicas' clocks may differ by this much. (A checkpoint dated back, e.g. to vouch
 * for an entry erased too soon, shows as out of order.)
 */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface Problem {
  kind: ProblemKind;
  message: string;
  /** The first bad entry, when one can be named. */
  seq?: number;
  eventId?: string;
  /** The broken checkpoint, when that is what failed. */
  checkpointSize?: number;
}

/**
 * Replays one chain entry by entry, in order, against its signed checkpoints, trusting only the
 * entries' own bytes and the public key. Used by the service's full check and by the standalone
 * verifier alike; stops at the first problem (nothing after it can be trusted).
 */
export class ChainVerifier {
  readonly frontier: Frontier = { size: 0, peaks: [] };
  checkpointsVerified = 0;
  /** Entries past retention, whose content is gone and whose leaf hash was taken as stored. */
  pruned = 0;
  private firstUnvouchedErased?: number;
  private lastSignedAt = -Infinity;
  private readonly now = Date.now();
  private next = 0;
  private readonly checkpoints: Checkpoint[];
  private started = false;
  private readonly malformed?: Problem;

  constructor(
    readonly chain: string,
    checkpoints: Checkpoint[],
    private readonly publicKey: string,
  ) {
    for (const checkpoint of checkpoints) {
      const why = malformedCheckpoint(checkpoint);
      if (why) {
        this.malformed = { kind: 'checkpoint_malformed', message: `a checkpoint is malformed: ${why}` };
        break;
      }
    }
    this.checkpoints = [...checkpoints].sort((a, b) => a.treeSize - b.treeSize);
  }

  /** Before the first entry: refuse malformed checkpoints, and check any of the empty tree (size 0). */
  private start(): Problem | undefined {
    if (this.started) return undefined;
    this.started = true;
    return this.malformed ?? this.reachCheckpoints();
  }

  /**
   * The next stored entry: its position, its bytes and (if stored) its leaf hash, or whether the
   * stored one matches (`storedLeafMatches`, when the database compared it). A caller that parsed
   * the entry already passes it as `parsed`; the hashes are computed here either way.
   */
  add(
    seq: number,
    entryText: string,
    storedLeafHash?: Buffer,
    options: { parsed?: AuditLogEntry; storedLeafMatches?: boolean } = {},
  ): Problem | undefined {
    const unusable = this.start();
    if (unusable) return unusable;
    const position = this.frontier.size;
    if (seq !== position)
      return {
        kind: 'missing_entry',
        seq: position,
        message: `entry ${position} is missing (the next stored entry is ${seq})`,
      };
    let entry: AuditLogEntry;
    try {
      entry = options.parsed ?? (JSON.parse(entryText) as AuditLogEntry);
    } catch {
      return { kind: 'leaf_hash_mismatch', seq, message: `entry ${seq} is not JSON` };
    }
    if (entry.chain !== this.chain || entry.seq !== seq) return misplaced(seq, entry);
    const leaf = leafHash(entryText);
    if (options.storedLeafMatches === false || (storedLeafHash && !leaf.equals(storedLeafHash)))
      return {
        kind: 'leaf_hash_mismatch',
        seq,
        eventId: entry.eventId,
        message: `entry ${seq}: its content does not match its leaf hash`,
      };
    appendLeaf(this.frontier, leaf);
    return this.reachCheckpoints();
  }

  /** Checks every signed checkpoint of exactly the size the chain has now reached. */
  private reachCheckpoints(): Problem | undefined {
    while (
      this.next < this.checkpoints.length &&
      this.checkpoints[this.next]!.treeSize === this.frontier.size
    ) {
      const checkpoint = this.checkpoints[this.next]!;
      const problem =
        this.checkCheckpoint(checkpoint) ??
        this.checkSigningOrder(checkpoint) ??
        this.vouchForErased(checkpoint);
      if (problem) return problem;
      this.checkpointsVerified++;
      this.next++;
    }
    return undefined;
  }

  /**
   * Erased entries since the last checkpoint are accounted for once a checkpoint old enough covers
   * them: it was signed when they were whole, at least the minimum retention ago. (Checkpoints are
   * reached oldest first, so a later one cannot be older.)
   */
  private vouchForErased(checkpoint: Checkpoint): Problem | undefined {
    if (this.firstUnvouchedErased === undefined) return undefined;
    if (Date.parse(checkpoint.signedAt) <= this.now - MIN_RETENTION_DAYS * 86_400_000) {
      this.firstUnvouchedErased = undefined;
      return undefined;
    }
    return this.erasedTooSoon();
  }

  private checkSigningOrder(checkpoint: Checkpoint): Problem | undefined {
    const signedAt = Date.parse(checkpoint.signedAt);
    if (signedAt < this.lastSignedAt - CLOCK_SKEW_MS)
      return {
        kind: 'checkpoint_out_of_order',
        checkpointSize: checkpoint.treeSize,
        message: `checkpoint at size ${checkpoint.treeSize} is dated ${checkpoint.signedAt}, before a smaller checkpoint`,
      };
    this.lastSignedAt = Math.max(this.lastSignedAt, signedAt);
    return undefined;
  }

  private erasedTooSoon(): Problem {
    const seq = this.firstUnvouchedErased!;
    return {
      kind: 'entry_erased',
      seq,
      message: `entry ${seq} was erased, but no checkpoint at least ${MIN_RETENTION_DAYS} days old covers it: not by retention`,
    };
  }

  /**
   * An entry whose content was erased at the end of its retention period: only its leaf hash is
   * left, and it is taken as stored. Signed checkpoints at or after it still cover it, so a changed
   * leaf hash shows as a checkpoint whose root no longer matches, and the first of them must be at
   * least MIN_RETENTION_DAYS old, or the entry was erased too soon.
   */
  addPruned(seq: number, storedLeafHash: Buffer): Problem | undefined {
    const unusable = this.start();
    if (unusable) return unusable;
    const position = this.frontier.size;
    if (seq !== position)
      return {
        kind: 'missing_entry',
        seq: position,
        message: `entry ${position} is missing (the next stored entry is ${seq})`,
      };
    if (!isHash(storedLeafHash))
      return {
        kind: 'leaf_hash_mismatch',
        seq,
        message: `entry ${seq}: its kept leaf hash is not ${HASH_SIZE} bytes`,
      };
    this.pruned++;
    this.firstUnvouchedErased ??= seq;
    appendLeaf(this.frontier, storedLeafHash);
    return this.reachCheckpoints();
  }

  /** After the last entry: every checkpoint must have been reached. */
  finish(): Problem | undefined {
    const unusable = this.start();
    if (unusable) return unusable;
    const c = this.checkpoints[this.next];
    if (!c) return this.firstUnvouchedErased === undefined ? undefined : this.erasedTooSoon();
    return {
      kind: 'checkpoint_beyond_log',
      checkpointSize: c.treeSize,
      seq: this.frontier.size,
      message: `checkpoint at size ${c.treeSize} covers entries the log no longer holds (it ends at ${this.frontier.size})`,
    };
  }

  root(): Buffer {
    return frontierRoot(this.frontier);
  }

  private checkCheckpoint(checkpoint: Checkpoint): Problem | undefined {
    if (checkpoint.chain !== this.chain || !verifyCheckpointSignature(checkpoint, this.publicKey))
      return {
        kind: 'checkpoint_signature_invalid',
        checkpointSize: checkpoint.treeSize,
        message: `checkpoint at size ${checkpoint.treeSize}: the signature does not verify`,
      };
    if (!parseHashHex(checkpoint.rootHash)!.equals(this.root()))
      return {
        kind: 'checkpoint_root_mismatch',
        checkpointSize: checkpoint.treeSize,
        message: `checkpoint at size ${checkpoint.treeSize}: the entries do not hash to the signed root`,
      };
    return undefined;
  }
}

/** An entry stored at a position it does not name. */
export function misplaced(seq: number, entry: Pick<AuditLogEntry, 'chain' | 'seq' | 'eventId'>): Problem {
  return {
    kind: 'entry_misplaced',
    seq,
    eventId: entry.eventId,
    message: `position ${seq} holds the entry of ${entry.chain} #${entry.seq}`,
  };
}
