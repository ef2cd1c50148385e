import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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
  rangeHash,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

/**
 * Veil's Merkle code against github.com/transparency-dev/merkle v0.0.2: the vectors are generated
 * by that library (testdata/generate, see testdata/README.md); every hash is an index into `hashes`.
 */
interface ReferenceVectors {
  source: string;
  hashes: string[];
  hasher: {
    emptyRoot: number;
    leaves: { data: string; hash: number }[];
    nodes: { left: string; right: string; hash: number }[];
  };
  leaves: { data: string; hash: number }[];
  /** roots[n]: the tree of the first n leaves. */
  roots: number[];
  /** frontiers[n]: its compact range (maximal complete subtrees, left to right). */
  frontiers: number[][];
  /** nodes[level][index]: the complete subtrees of the first 64 leaves. */
  nodes: number[][];
  /** inclusion[size][index]. */
  inclusion: number[][][];
  /** consistency[size2][size1]. */
  consistency: number[][][];
  inclusionProbes: Record<string, InclusionProbe[]>;
  consistencyProbes: Record<string, ConsistencyProbe[]>;
}

interface InclusionProbe {
  index: number;
  size: number;
  leaf: number;
  root: number;
  proof: number[];
  /** The reference's verdict. */
  verifies: boolean;
}

interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: number;
  root2: number;
  proof: number[];
  verifies: boolean;
}

const vectors = JSON.parse(
  readFileSync(join(__dirname, 'testdata', 'transparency-dev-merkle-v0.0.2.json'), 'utf8'),
) as ReferenceVectors;
const hashes = vectors.hashes.map((h) => Buffer.from(h, 'hex'));
const hash = (i: number): Buffer => hashes[i]!;
const hex = (b: Buffer): string => b.toString('hex');
const hexOf = (indices: number[]): string[] => indices.map((i) => vectors.hashes[i]!);
const isHash = (b: Buffer): boolean => b.length === 32;

/** Veil's own tree over the reference leaves: incremental roots, compact frontiers, stored subtrees. */
function buildVeilTree() {
  const frontier: Frontier = { size: 0, peaks: [] };
  const stored = new Map<string, Buffer>();
  const roots = [frontierRoot(frontier)];
  const frontiers = [[] as string[]];
  vectors.leaves.forEach(({ data }, i) => {
    const leaf = leafHash(Buffer.from(data, 'hex'));
    stored.set(`0/${i}`, leaf);
    for (const n of appendLeaf(frontier, leaf)) stored.set(`${n.level}/${n.index}`, n.hash);
    roots.push(frontierRoot(frontier));
    frontiers.push(frontier.peaks.map(hex));
  });
  const node = ({ level, index }: NodeKey): Buffer => {
    const found = stored.get(`${level}/${index}`);
    if (!found) throw new Error(`no stored subtree ${level}/${index}`);
    return found;
  };
  return { roots, frontiers, node };
}

describe(`Merkle log against the reference vectors of ${vectors.source.split(' (')[0]}`, () => {
  const veil = buildVeilTree();

  it('hashes the empty tree, leaves and nodes as the reference hasher does', () => {
    expect(hex(EMPTY_ROOT)).toBe(vectors.hashes[vectors.hasher.emptyRoot]);
    for (const { data, hash: h } of [...vectors.hasher.leaves, ...vectors.leaves])
      expect(hex(leafHash(Buffer.from(data, 'hex')))).toBe(vectors.hashes[h]);
    for (const { left, right, hash: h } of vectors.hasher.nodes)
      expect(hex(nodeHash(Buffer.from(left, 'hex'), Buffer.from(right, 'hex')))).toBe(vectors.hashes[h]);
  });

  it('computes the reference root of every tree size, incrementally and from stored subtrees', () => {
    expect(veil.roots.map(hex)).toEqual(hexOf(vectors.roots));
    vectors.roots.forEach((root, n) =>
      expect(hex(rangeHash({ start: 0, end: n }, veil.node))).toBe(vectors.hashes[root]),
    );
  });

  it('keeps the same right edge and stores the same complete subtrees as the reference', () => {
    expect(veil.frontiers.slice(0, vectors.frontiers.length)).toEqual(vectors.frontiers.map(hexOf));
    vectors.nodes.forEach((row, level) =>
      row.forEach((h, index) => expect(hex(veil.node({ level, index }))).toBe(vectors.hashes[h])),
    );
  });

  it('generates and verifies the reference inclusion proof of every leaf in every tree size', () => {
    vectors.inclusion.forEach((bySize, size) =>
      bySize.forEach((proof, index) => {
        const generated = inclusionRanges(index, size).map((r) => hex(rangeHash(r, veil.node)));
        expect({ index, size, proof: generated }).toEqual({ index, size, proof: hexOf(proof) });
        const leaf = hash(vectors.leaves[index]!.hash);
        expect(verifyInclusion(leaf, index, size, proof.map(hash), hash(vectors.roots[size]!))).toBe(true);
      }),
    );
  });

  it('generates and verifies the reference consistency proof between every pair of sizes, from 0 on', () => {
    vectors.consistency.forEach((bySize1, size2) =>
      bySize1.forEach((proof, size1) => {
        const generated = consistencyRanges(size1, size2).map((r) => hex(rangeHash(r, veil.node)));
        expect({ size1, size2, proof: generated }).toEqual({ size1, size2, proof: hexOf(proof) });
        const [root1, root2] = [hash(vectors.roots[size1]!), hash(vectors.roots[size2]!)];
        expect(verifyConsistency(size1, size2, root1, root2, proof.map(hash))).toBe(true);
      }),
    );
  });

  // Veil is stricter than the reference in two ways, on purpose: every hash must be 32 bytes (the
  // reference checks only the leaf's), and a tree of size 0 must have the empty root (the reference
  // takes any). Everything else must get the reference's verdict.
  it('rejects every mutated inclusion proof the reference rejects, and accepts the ones it accepts', () => {
    const disagreements: string[] = [];
    let probes = 0;
    for (const [mutation, list] of Object.entries(vectors.inclusionProbes)) {
      for (const p of list) {
        probes++;
        const [leaf, root, proof] = [hash(p.leaf), hash(p.root), p.proof.map(hash)];
        const expected = p.verifies && [leaf, root, ...proof].every(isHash);
        if (verifyInclusion(leaf, p.index, p.size, proof, root) !== expected)
          disagreements.push(`${mutation}: ${JSON.stringify(p)}`);
      }
    }
    expect(probes).toBeGreaterThan(500);
    expect(disagreements).toEqual([]);
  });

  it('rejects every mutated consistency proof the reference rejects, and accepts the ones it accepts', () => {
    const disagreements: string[] = [];
    let probes = 0;
    for (const [mutation, list] of Object.entries(vectors.consistencyProbes)) {
      for (const p of list) {
        probes++;
        const [root1, root2, proof] = [hash(p.root1), hash(p.root2), p.proof.map(hash)];
        const emptyTreeRootsHold =
          (p.size1 > 0 || root1.equals(EMPTY_ROOT)) && (p.size2 > 0 || root2.equals(EMPTY_ROOT));
        const expected = p.verifies && [root1, root2, ...proof].every(isHash) && emptyTreeRootsHold;
        if (verifyConsistency(p.size1, p.size2, root1, root2, proof) !== expected)
          disagreements.push(`${mutation}: ${JSON.stringify(p)}`);
      }
    }
    expect(probes).toBeGreaterThan(500);
    expect(disagreements).toEqual([]);
  });
});
