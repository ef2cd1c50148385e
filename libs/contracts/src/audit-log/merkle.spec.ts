import { createHash } from 'node:crypto';

import {
  appendLeaf,
  consistencyRanges,
  EMPTY_ROOT,
  type Frontier,
  frontierRoot,
  inclusionRanges,
  leafHash,
  type NodeKey,
  nodeHash,
  nodesForRange,
  rangeHash,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

/** RFC 6962 MTH, straight from the definition. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function buildLog(n: number) {
  const leaves = Array.from({ length: n }, (_, i) => leafHash(`entry ${i}`));
  const frontier: Frontier = { size: 0, peaks: [] };
  const nodes = new Map<string, Buffer>();
  const roots: Buffer[] = [EMPTY_ROOT];
  leaves.forEach((leaf, i) => {
    nodes.set(`0:${i}`, leaf);
    for (const node of appendLeaf(frontier, leaf)) nodes.set(`${node.level}:${node.index}`, node.hash);
    roots.push(frontierRoot(frontier));
  });
  const node = (key: NodeKey) => {
    const hash = nodes.get(`${key.level}:${key.index}`);
    if (!hash) throw new Error(`missing node ${key.level}:${key.index}`);
    return hash;
  };
  return { leaves, roots, node };
}

describe('Merkle log (RFC 6962 / 9162)', () => {
  const { leaves, roots, node } = buildLog(70);

  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(leafHash('').toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', // RFC 6962 test vector: leaf of ""
    );
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('computes the same root incrementally as the recursive definition, for every size', () => {
    for (let n = 0; n <= 70; n++) expect(roots[n]!.equals(mth(leaves.slice(0, n)))).toBe(true);
  });

  it('computes any range from the stored complete subtrees, with O(log n) of them', () => {
    for (let n = 1; n <= 70; n++) {
      expect(rangeHash({ start: 0, end: n }, node).equals(roots[n]!)).toBe(true);
      expect(nodesForRange({ start: 0, end: n }).length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 1);
    }
  });

  it('proves and verifies inclusion of every leaf in every tree size, and rejects wrong proofs', () => {
    for (let n = 1; n <= 40; n++) {
      for (let m = 0; m < n; m++) {
        const proof = inclusionRanges(m, n).map((r) => rangeHash(r, node));
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(leaves[m]!, m, n, proof, roots[n]!)).toBe(true);
        expect(verifyInclusion(leaves[(m + 1) % n]!, m, n, proof, roots[n]!)).toBe(n === 1 && m === 0);
        if (proof.length > 0) {
          const bad = proof.map((p, i) => (i === 0 ? leafHash('forged') : p));
          expect(verifyInclusion(leaves[m]!, m, n, bad, roots[n]!)).toBe(false);
        }
        expect(verifyInclusion(leaves[m]!, m, n + 1, proof, roots[n + 1]!)).toBe(false);
      }
    }
  });

  it('proves and verifies consistency between every pair of sizes, and rejects a rewritten history', () => {
    for (let n = 1; n <= 40; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyRanges(m, n).map((r) => rangeHash(r, node));
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof)).toBe(true);
        if (m < n) {
          const forgedOld = mth([leafHash('forged'), ...leaves.slice(1, m)]);
          expect(verifyConsistency(m, n, forgedOld, roots[n]!, proof)).toBe(false);
        }
      }
    }
  });

  it('keeps proofs logarithmic at a million leaves', () => {
    expect(inclusionRanges(123_456, 1_000_000)).toHaveLength(20);
    expect(consistencyRanges(500_000, 1_000_000).length).toBeLessThanOrEqual(21);
  });
});

describe('Merkle log: what verification accepts from outside', () => {
  const { leaves, roots, node } = buildLog(16);
  const inclusionProof = (m: number, n: number) => inclusionRanges(m, n).map((r) => rangeHash(r, node));
  const consistencyProof = (m: number, n: number) => consistencyRanges(m, n).map((r) => rangeHash(r, node));
  const notWhole = [0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -0.5];

  it('rejects hashes that are not 32 bytes: an empty leaf with an empty root is no tree of size 1', () => {
    const empty = Buffer.alloc(0);
    expect(verifyInclusion(empty, 0, 1, [], empty)).toBe(false);
    const short = leaves[0]!.subarray(0, 31);
    expect(verifyInclusion(short, 0, 1, [], short)).toBe(false);
    const long = Buffer.concat([leaves[0]!, Buffer.from([0])]);
    expect(verifyInclusion(long, 0, 1, [], long)).toBe(false);
    // a proof element or root of the wrong length, however the rest hashes up
    const proof = inclusionProof(2, 4);
    expect(verifyInclusion(leaves[2]!, 2, 4, [...proof.slice(0, 1), Buffer.alloc(0)], roots[4]!)).toBe(false);
    expect(verifyConsistency(3, 3, empty, empty, [])).toBe(false);
    expect(verifyConsistency(3, 3, short, short, [])).toBe(false);
    expect(verifyConsistency(0, 0, empty, empty, [])).toBe(false);
    const consistency = consistencyProof(3, 7);
    expect(verifyConsistency(3, 7, roots[3]!, roots[7]!, [...consistency, empty])).toBe(false);
  });

  it('rejects sizes and indices that are not whole non-negative safe integers', () => {
    expect(verifyInclusion(leaves[0]!, 0.5, 1, [], leaves[0]!)).toBe(false);
    for (let m = 0; m < 8; m++) {
      const proof = inclusionProof(m, 8);
      expect(verifyInclusion(leaves[m]!, m, 8, proof, roots[8]!)).toBe(true);
      expect(verifyInclusion(leaves[m]!, m, 8.5, proof, roots[8]!)).toBe(false);
      expect(verifyInclusion(leaves[m]!, m + 0.25, 8, proof, roots[8]!)).toBe(false);
    }
    for (const bad of notWhole) {
      expect(verifyInclusion(leaves[0]!, bad, 1, [], leaves[0]!)).toBe(false);
      expect(verifyInclusion(leaves[0]!, 0, bad, [], leaves[0]!)).toBe(false);
      expect(verifyConsistency(bad, 8, roots[4]!, roots[8]!, consistencyProof(4, 8))).toBe(false);
      expect(verifyConsistency(4, bad, roots[4]!, roots[8]!, consistencyProof(4, 8))).toBe(false);
      expect(() => inclusionRanges(bad, 8)).toThrow(/whole number/);
      expect(() => inclusionRanges(0, bad)).toThrow(/whole number/);
      expect(() => consistencyRanges(bad, 8)).toThrow(/whole number/);
      expect(() => consistencyRanges(4, bad)).toThrow(/whole number/);
      expect(() => rangeHash({ start: 0, end: bad }, node)).toThrow(/whole number/);
      expect(() => nodesForRange({ start: bad, end: 8 })).toThrow(/whole number/);
    }
    expect(verifyConsistency(4, 8.5, roots[4]!, roots[8]!, consistencyProof(4, 8))).toBe(false);
    expect(verifyConsistency(4.5, 8, roots[4]!, roots[8]!, consistencyProof(4, 8))).toBe(false);
  });

  it('treats the empty tree as a prefix of every tree: from size 0, an empty proof (with the empty root)', () => {
    for (let n = 0; n <= 16; n++) {
      expect(consistencyRanges(0, n)).toEqual([]);
      expect(verifyConsistency(0, n, EMPTY_ROOT, roots[n]!, [])).toBe(true);
      expect(verifyConsistency(0, n, EMPTY_ROOT, roots[n]!, [EMPTY_ROOT])).toBe(false);
      // a tree of size 0 has one root, MTH({}): any other is a false claim
      expect(verifyConsistency(0, n, leaves[0]!, roots[n]!, [])).toBe(false);
    }
    expect(verifyConsistency(0, 0, EMPTY_ROOT, leaves[0]!, [])).toBe(false);
  });

  it('proves and verifies at sizes beyond 2^32, up to 2^53 - 1, where bitwise arithmetic would wrap', () => {
    // identical leaves: every complete subtree of a level has one hash, so a huge tree costs nothing
    const levels = [leafHash('the same entry')];
    const uniform = ({ level }: NodeKey): Buffer => {
      if (!Number.isInteger(level)) throw new Error(`no subtree at level ${level}`);
      while (levels.length <= level) levels.push(nodeHash(levels.at(-1)!, levels.at(-1)!));
      return levels[level]!;
    };
    const root = (n: number) => rangeHash({ start: 0, end: n }, uniform);
    const [m, n] = [3 * 2 ** 31, 2 ** 33 + 5];
    expect(nodesForRange({ start: 0, end: m })).toEqual([
      { level: 32, index: 0 },
      { level: 31, index: 2 },
    ]);
    const proof = consistencyRanges(m, n).map((r) => rangeHash(r, uniform));
    expect(verifyConsistency(m, n, root(m), root(n), proof)).toBe(true);
    expect(verifyConsistency(m, n, root(m + 1), root(n), proof)).toBe(false);
    for (const [index, size] of [
      [m + 7, n],
      [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
    ] as const) {
      const path = inclusionRanges(index, size).map((r) => rangeHash(r, uniform));
      expect(verifyInclusion(levels[0]!, index, size, path, root(size))).toBe(true);
    }
  });

  it('hashes an empty range as the empty tree, MTH({}) = SHA-256(), and refuses a reversed range', () => {
    // answers every key, as a store would: only the range arithmetic can stop the recursion
    const lookups: NodeKey[] = [];
    const spy = (key: NodeKey) => {
      lookups.push(key);
      return leafHash(`node ${key.level}/${key.index}`);
    };
    for (const start of [0, 5, 16]) {
      expect(rangeHash({ start, end: start }, spy).equals(EMPTY_ROOT)).toBe(true);
      expect(nodesForRange({ start, end: start })).toEqual([]);
    }
    expect(lookups).toEqual([]);
    expect(() => rangeHash({ start: 5, end: 3 }, spy)).toThrow(/not a range/);
    expect(() => nodesForRange({ start: 5, end: 3 })).toThrow(/not a range/);
  });
});
