import { type Checkpoint, malformedCheckpoint, verifyCheckpointSignature } from './log-format';
import { isWholeNumber, leafHash, parseHashHex, verifyConsistency, verifyInclusion } from './merkle';

/**
 * Proofs as Veil hands them out, each tied to a signed checkpoint, and their checks. A client
 * needs only the published public key: a valid answer means the signed log contains the entry
 * (inclusion) or that a later checkpoint extends an earlier one without rewriting it (consistency).
 */

export interface InclusionProof {
  chain: string;
  seq: number;
  /** The checkpoint whose tree the path leads to: the entry is one of its `treeSize` leaves. */
  checkpoint: Checkpoint;
  /** Sibling subtree hashes (hex), leaf upwards: RFC 9162 inclusion path, ⌈log2 treeSize⌉ at most. */
  path: string[];
}

export interface ConsistencyProof {
  chain: string;
  from: Checkpoint;
  to: Checkpoint;
  /** RFC 9162 consistency path (hex). */
  path: string[];
}

/** The path's hashes, or undefined unless every one is exactly 64 hex digits. */
function parsePath(path: unknown): Buffer[] | undefined {
  if (!Array.isArray(path)) return undefined;
  const hashes = path.map(parseHashHex);
  return hashes.every((h) => h !== undefined) ? (hashes as Buffer[]) : undefined;
}

/** Checks an inclusion proof of the exact entry bytes; returns what is wrong, or undefined when it holds. */
export function checkInclusionProof(
  entry: string,
  proof: InclusionProof,
  publicKey: string | Buffer,
): string | undefined {
  const { checkpoint } = proof;
  const malformed = malformedCheckpoint(checkpoint);
  if (malformed) return `the checkpoint is malformed: ${malformed}`;
  if (!isWholeNumber(proof.seq)) return `the proof is malformed: position ${proof.seq} is not a whole number`;
  const path = parsePath(proof.path);
  if (!path) return 'the proof is malformed: its path holds something other than 64 hex digit hashes';
  if (checkpoint.chain !== proof.chain) return 'the checkpoint belongs to another chain';
  if (!verifyCheckpointSignature(checkpoint, publicKey)) return 'the checkpoint signature is invalid';
  let parsed: { chain?: unknown; seq?: unknown };
  try {
    parsed = JSON.parse(entry) as { chain?: unknown; seq?: unknown };
  } catch {
    return 'the entry is not JSON';
  }
  if (parsed.chain !== proof.chain || parsed.seq !== proof.seq)
    return 'the entry names another position than the proof';
  const ok = verifyInclusion(
    leafHash(entry),
    proof.seq,
    checkpoint.treeSize,
    path,
    parseHashHex(checkpoint.rootHash)!,
  );
  return ok ? undefined : `the path does not lead to the root signed at size ${checkpoint.treeSize}`;
}

/** Checks that `to` extends `from` (both signed); returns what is wrong, or undefined when it holds. */
export function checkConsistencyProof(
  proof: ConsistencyProof,
  publicKey: string | Buffer,
): string | undefined {
  const { from, to } = proof;
  const malformed = malformedCheckpoint(from) ?? malformedCheckpoint(to);
  if (malformed) return `a checkpoint is malformed: ${malformed}`;
  const path = parsePath(proof.path);
  if (!path) return 'the proof is malformed: its path holds something other than 64 hex digit hashes';
  if (from.chain !== proof.chain || to.chain !== proof.chain) return 'a checkpoint belongs to another chain';
  if (!verifyCheckpointSignature(from, publicKey)) return `checkpoint ${from.treeSize}: signature invalid`;
  if (!verifyCheckpointSignature(to, publicKey)) return `checkpoint ${to.treeSize}: signature invalid`;
  const ok = verifyConsistency(
    from.treeSize,
    to.treeSize,
    parseHashHex(from.rootHash)!,
    parseHashHex(to.rootHash)!,
    path,
  );
  return ok ? undefined : `checkpoint ${to.treeSize} does not extend checkpoint ${from.treeSize}`;
}
