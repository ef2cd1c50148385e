import { type Checkpoint, verifyCheckpointSignature } from './log-format';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle';

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

/** Checks an inclusion proof of the exact entry bytes; returns what is wrong, or undefined when it holds. */
export function checkInclusionProof(
  entry: string,
  proof: InclusionProof,
  publicKey: string | Buffer,
): string | undefined {
  const { checkpoint } = proof;
  if (checkpoint.chain !== proof.chain) return 'the checkpoint belongs to another chain';
  if (!verifyCheckpointSignature(checkpoint, publicKey)) return 'the checkpoint signature is invalid';
  const parsed = JSON.parse(entry) as { chain?: string; seq?: number };
  if (parsed.chain !== proof.chain || parsed.seq !== proof.seq)
    return 'the entry names another position than the proof';
  const ok = verifyInclusion(
    leafHash(entry),
    proof.seq,
    checkpoint.treeSize,
    proof.path.map((h) => Buffer.from(h, 'hex')),
    Buffer.from(checkpoint.rootHash, 'hex'),
  );
  return ok ? undefined : `the path does not lead to the root signed at size ${checkpoint.treeSize}`;
}

/** Checks that `to` extends `from` (both signed); returns what is wrong, or undefined when it holds. */
export function checkConsistencyProof(
  proof: ConsistencyProof,
  publicKey: string | Buffer,
): string | undefined {
  const { from, to } = proof;
  if (from.chain !== proof.chain || to.chain !== proof.chain) return 'a checkpoint belongs to another chain';
  if (!verifyCheckpointSignature(from, publicKey)) return `checkpoint ${from.treeSize}: signature invalid`;
  if (!verifyCheckpointSignature(to, publicKey)) return `checkpoint ${to.treeSize}: signature invalid`;
  const ok = verifyConsistency(
    from.treeSize,
    to.treeSize,
    Buffer.from(from.rootHash, 'hex'),
    Buffer.from(to.rootHash, 'hex'),
    proof.path.map((h) => Buffer.from(h, 'hex')),
  );
  return ok ? undefined : `checkpoint ${to.treeSize} does not extend checkpoint ${from.treeSize}`;
}
