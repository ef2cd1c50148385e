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
