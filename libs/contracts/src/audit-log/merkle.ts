import { createHash, hash } from 'node:crypto';

/**
 * Merkle tree hashing as in RFC 6962 / RFC 9162 (section 2.1): SHA-256, leaf = H(0x00 ‖ entry),
 * node = H(0x01 ‖ left ‖ right), the tree over n leaves split at the largest power of two below n.
 * Pure functions, shared by the audit-log service and the standalone verifier.
 */

const LEAF = Buffer.from([0]);

/** SHA-256: every hash in the tree is this long, and so must be every hash a verifier is handed. */
export const HASH_SIZE = 32;

/** A hash as the tree uses it: exactly 32 bytes. */
export function isHash(value: unknown): boolean {
  return Buffer.isBuffer(value) && value.length === HASH_SIZE;
}

/**
 * The 32 bytes of a hash written as exactly 64 hex digits, or undefined. (Buffer.from(text, 'hex')
 * silently stops at the first character it cannot read, so a padded or cut hash would pass unnoticed.)
 */
export function parseHashHex(text: unknown): Buffer | undefined {
  return typeof text === 'string' && /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/** A tree size, leaf index or position: a whole number, at most 2^53 - 1 (where numbers stay exact). */
export function isWholeNumber(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function requireWholeNumbers(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values))
    if (!isWholeNumber(value)) throw new RangeError(`${name} ${value} is not a whole number`);
}

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

/**
 * Whether n is 2^k. Arithmetic, not `n & (n - 1)`: bitwise operators cut numbers to 32 bits, and a
 * tree size may be any whole number up to 2^53 - 1.
 */
function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

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
  if (!isHash(leaf)) throw new RangeError(`a leaf hash is ${HASH_SIZE} bytes, not ${leaf.length}`);
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

/** The number of leaves in `range`, once it is known to be one. */
function rangeLength({ start, end }: LeafRange): number {
  requireWholeNumbers({ 'range start': start, 'range end': end });
  if (end < start) throw new RangeError(`[${start}, ${end}) is not a range`);
  return end - start;
}

/**
 * The stored complete subtrees whose hashes make up the tree hash of `range`: none for an empty
 * range, whose hash is MTH({}) (see rangeHash).
 */
export function nodesForRange(range: LeafRange): NodeKey[] {
  const subtrees = (start: number, n: number): NodeKey[] => {
    if (isPowerOfTwo(n) && start % n === 0) return [{ level: Math.log2(n), index: start / n }];
    const k = splitPoint(n);
    return [...subtrees(start, k), ...subtrees(start + k, n - k)];
  };
  const n = rangeLength(range);
  return n === 0 ? [] : subtrees(range.start, n);
}

/**
 * Tree hash of `range` from stored complete subtrees (`node` answers every key nodesForRange lists).
 * RFC 9162 2.1.1: the hash of an empty list is that of the empty tree, MTH({}) = SHA-256().
 */
export function rangeHash(range: LeafRange, node: (key: NodeKey) => Buffer): Buffer {
  const hashOf = (start: number, n: number): Buffer => {
    if (isPowerOfTwo(n) && start % n === 0) return node({ level: Math.log2(n), index: start / n });
    const k = splitPoint(n);
    return nodeHash(hashOf(start, k), hashOf(start + k, n - k));
  };
  const n = rangeLength(range);
  return n === 0 ? EMPTY_ROOT : hashOf(range.start, n);
}

/** RFC 6962 PATH(m, D[n]): the ranges whose hashes prove leaf `index` in a tree of `size`, leaf upwards. */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  requireWholeNumbers({ leaf: index, 'tree size': size });
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  const path = (m: number, n: number, offset: number): LeafRange[] => {
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k
      ? [...path(m, k, offset), { start: offset + k, end: offset + n }]
      : [...path(m - k, n - k, offset + k), { start: offset, end: offset + k }];
  };
  return path(index, size, 0);
}

/**
 * RFC 6962 PROOF(m, D[n]): the ranges whose hashes prove a tree of `first` leaves is a prefix of one
 * of `second`. The RFC defines it for 0 < m; the empty tree is a prefix of every tree, so from size 0
 * (as between equal sizes) the proof is empty, as in transparency-dev/merkle.
 */
export function consistencyRanges(first: number, second: number): LeafRange[] {
  requireWholeNumbers({ 'first tree size': first, 'second tree size': second });
  if (first > second) throw new RangeError(`no consistency proof from ${first} to ${second}`);
  if (first === 0) return [];
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
  if (!isWholeNumber(index) || !isWholeNumber(size) || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof) || !proof.every(isHash)) return false;
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

/**
 * RFC 9162 2.1.4.2: does `proof` show the tree (`first`, `firstRoot`) is a prefix of (`second`, `secondRoot`)?
 * From size 0 the proof is empty (see consistencyRanges), and the first root must be the empty tree's.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Buffer,
  secondRoot: Buffer,
  proof: Buffer[],
): boolean {
  if (!isWholeNumber(first) || !isWholeNumber(second) || first > second) return false;
  if (!isHash(firstRoot) || !isHash(secondRoot) || !Array.isArray(proof) || !proof.every(isHash))
    return false;
  if (first === 0)
    return (
      proof.length === 0 && firstRoot.equals(EMPTY_ROOT) && (second > 0 || secondRoot.equals(EMPTY_ROOT))
    );
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
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
