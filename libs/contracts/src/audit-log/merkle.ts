import { createHash, hash } from 'node:crypto';

/**
 * Merkle tree hashing as in RFC 6962 / RFC 9162 (section 2.1): SHA-256, leaf = H(0x00 ‖ entry),
 * node = H(0x01 ‖ left ‖ right), the tree over n leaves split at the largest power of two below n.
 * Pure functions, shared by the audit-log service and the standalone verifier.
 */

const LEAF = Buffer.from([0]);

// One-shot hashing (crypto.hash) costs about a third less than a Hash object per call, which
// matters to full verification: two hashes per entry.
export function leafHash(entry: Buffer | string): Buffer {
  return typeof entry === 'string'
    ? hash('sha256', `\u0000${entry}`, 'buffer') // UTF-8 of U+0000 is the 0x00 prefix byte
    : hash('sha256', Buffer.concat([LEAF, entry]), 'buffer');
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 1;
  left.copy(input, 1);
  right.copy(input, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** Largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A complete subtree stored by the log: 2^level leaves starting at leaf index * 2^level. */
export interface NodeKey {
  level: number;
  index: number;
}

/**
 * The right edge of a tree of `size` leaves: the roots of its maximal complete subtrees, largest
 * (leftmost) first — one per set bit of `size`. Enough to append and to compute the root.
 */
export interface Frontier {
  size: number;
  peaks: Buffer[];
}

/** Appends one leaf; returns the complete subtrees (level >= 1) it finished, for storage. */
export function appendLeaf(frontier: Frontier, leaf: Buffer): (NodeKey & { hash: Buffer })[] {
  const finished: (NodeKey & { hash: Buffer })[] = [];
  let hash = leaf;
  let level = 0;
  let position = frontier.size; // index of the new subtree at `level`
  while (position % 2 === 1) {
    hash = nodeHash(frontier.peaks.pop()!, hash);
    level++;
    position = (position - 1) / 2;
    finished.push({ level, index: position, hash });
  }
  frontier.peaks.push(hash);
  frontier.size++;
  return finished;
}

export function frontierRoot(frontier: Frontier): Buffer {
  if (frontier.peaks.length === 0) return EMPTY_ROOT;
  let root = frontier.peaks[frontier.peaks.length - 1]!;
  for (let i = frontier.peaks.length - 2; i >= 0; i--) root = nodeHash(frontier.peaks[i]!, root);
  return root;
}

/** A range of leaves [start, end) whose tree hash is one element of a proof. */
export interface LeafRange {
  start: number;
  end: number;
}

/** The stored complete subtrees whose hashes make up the tree hash of `range`. */
export function nodesForRange({ start, end }: LeafRange): NodeKey[] {
  const n = end - start;
  if (n <= 0) throw new Error('empty range');
  if ((n & (n - 1)) === 0 && start % n === 0) return [{ level: Math.log2(n), index: start / n }];
  const k = splitPoint(n);
  return [...nodesForRange({ start, end: start + k }), ...nodesForRange({ start: start + k, end })];
}

/** Tree hash of `range` from stored complete subtrees (`node` answers every key nodesForRange lists). */
export function rangeHash(range: LeafRange, node: (key: NodeKey) => Buffer): Buffer {
  const n = range.end - range.start;
  if ((n & (n - 1)) === 0 && range.start % n === 0)
    return node({ level: Math.log2(n), index: range.start / n });
  const k = splitPoint(n);
  return nodeHash(
    rangeHash({ start: range.start, end: range.start + k }, node),
    rangeHash({ start: range.start + k, end: range.end }, node),
  );
}

/** RFC 6962 PATH(m, D[n]): the ranges whose hashes prove leaf `index` in a tree of `size`, leaf upwards. */
export function inclusionRanges(index: number, size: number, offset = 0): LeafRange[] {
  if (index < 0 || index >= size) throw new Error(`leaf ${index} is not in a tree of ${size}`);
  if (size === 1) return [];
  const k = splitPoint(size);
  return index < k
    ? [...inclusionRanges(index, k, offset), { start: offset + k, end: offset + size }]
    : [...inclusionRanges(index - k, size - k, offset + k), { start: offset, end: offset + k }];
}

/** RFC 6962 PROOF(m, D[n]): the ranges whose hashes prove a tree of `first` leaves is a prefix of one of `second`. */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  if (first <= 0 || first > second) throw new Error(`no consistency proof from ${first} to ${second}`);
  const sub = (m: number, n: number, complete: boolean, offset: number): LeafRange[] => {
    if (m === n) return complete ? [] : [{ start: offset, end: offset + n }];
    const k = splitPoint(n);
    return m <= k
      ? [...sub(m, k, complete, offset), { start: offset + k, end: offset + n }]
      : [...sub(m - k, n - k, false, offset + k), { start: offset, end: offset + k }];
  };
  return sub(first, second, true, 0);
}

/** RFC 9162 2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  leaf: Buffer,
  index: number,
  size: number,
  proof: Buffer[],
  root: Buffer,
): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: does `proof` show the tree (`first`, `firstRoot`) is a prefix of (`second`, `secondRoot`)? */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (first <= 0 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(firstRoot) && sr.equals(secondRoot) && sn === 0;
}
