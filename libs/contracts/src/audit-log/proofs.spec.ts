import { generateKeyPairSync, sign } from 'node:crypto';

import { type Checkpoint, checkpointMessage, encodeEntry } from './log-format';
import {
  appendLeaf,
  consistencyRanges,
  EMPTY_ROOT,
  type Frontier,
  frontierRoot,
  inclusionRanges,
  leafHash,
  type NodeKey,
  rangeHash,
} from './merkle';
import { checkConsistencyProof, checkInclusionProof, type InclusionProof } from './proofs';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const CHAIN = 'org:org_test';

/** Signs whatever it is given, as a compromised or careless signer would: the checks must still hold. */
function checkpoint(treeSize: number, rootHash: string): Checkpoint {
  const unsigned = { chain: CHAIN, treeSize, rootHash, signedAt: '2026-01-01T00:00:00.000Z' };
  return {
    ...unsigned,
    keyId: 'test',
    algorithm: 'ECDSA_SHA_256',
    signature: sign('sha256', checkpointMessage(unsigned), privateKey).toString('base64'),
  };
}

function entry(seq: number): string {
  return encodeEntry({
    v: 1,
    chain: CHAIN,
    seq,
    eventId: `evt_${seq}`,
    organizationId: 'org_test',
    occurredAt: '2026-01-01T00:00:00.000Z',
    producer: 'test',
    event: { action: 'pii.reveal', actor: { type: 'api_key', id: 'key_1' }, outcome: 'allowed', targets: {} },
  });
}

function tree(size: number) {
  const entries = Array.from({ length: size }, (_, i) => entry(i));
  const frontier: Frontier = { size: 0, peaks: [] };
  const stored = new Map<string, Buffer>();
  const roots: Buffer[] = [EMPTY_ROOT];
  entries.forEach((e, i) => {
    const leaf = leafHash(e);
    stored.set(`0/${i}`, leaf);
    for (const n of appendLeaf(frontier, leaf)) stored.set(`${n.level}/${n.index}`, n.hash);
    roots.push(frontierRoot(frontier));
  });
  const node = ({ level, index }: NodeKey) => stored.get(`${level}/${index}`)!;
  return { entries, roots, node };
}

describe('proof checks: malformed hashes and sizes', () => {
  const t = tree(8);
  const inclusion = (seq: number, size: number): InclusionProof => ({
    chain: CHAIN,
    seq,
    checkpoint: checkpoint(size, t.roots[size]!.toString('hex')),
    path: inclusionRanges(seq, size).map((r) => rangeHash(r, t.node).toString('hex')),
  });

  it('accepts a well-formed inclusion proof, and no hash that is not exactly 64 hex digits', () => {
    const proof = inclusion(5, 8);
    expect(checkInclusionProof(t.entries[5]!, proof, publicKeyPem)).toBeUndefined();
    // Buffer.from(hex) stops at the first bad digit: a padded or truncated hash must not pass as the real one
    for (const bad of [
      `${proof.path[0]}zz`,
      `${proof.path[0]}0`,
      proof.path[0]!.toUpperCase().slice(0, 62),
    ]) {
      const path = [bad, ...proof.path.slice(1)];
      expect(checkInclusionProof(t.entries[5]!, { ...proof, path }, publicKeyPem)).toMatch(/malformed/);
    }
    const junkRoot = checkpoint(8, `${t.roots[8]!.toString('hex')}zz`);
    expect(checkInclusionProof(t.entries[5]!, { ...proof, checkpoint: junkRoot }, publicKeyPem)).toMatch(
      /malformed/,
    );
  });

  it('refuses a position or tree size that is not a whole non-negative number', () => {
    const proof = inclusion(5, 8);
    const half = checkpoint(8.5, t.roots[8]!.toString('hex'));
    expect(checkInclusionProof(t.entries[5]!, { ...proof, checkpoint: half }, publicKeyPem)).toMatch(
      /malformed/,
    );
    // an entry that claims position 0.5, in a tree of 1 whose root is its own leaf hash
    const odd = entry(0).replace('"seq":0', '"seq":0.5');
    const single: InclusionProof = {
      chain: CHAIN,
      seq: 0.5,
      checkpoint: checkpoint(1, leafHash(odd).toString('hex')),
      path: [],
    };
    expect(checkInclusionProof(odd, single, publicKeyPem)).toMatch(/malformed/);
  });

  it('checks consistency from a signed empty tree, and refuses sizes that are not whole numbers', () => {
    const to = checkpoint(8, t.roots[8]!.toString('hex'));
    const empty = checkpoint(0, EMPTY_ROOT.toString('hex'));
    expect(checkConsistencyProof({ chain: CHAIN, from: empty, to, path: [] }, publicKeyPem)).toBeUndefined();
    const from = checkpoint(4, t.roots[4]!.toString('hex'));
    const path = consistencyRanges(4, 8).map((r) => rangeHash(r, t.node).toString('hex'));
    expect(checkConsistencyProof({ chain: CHAIN, from, to, path }, publicKeyPem)).toBeUndefined();
    const half = checkpoint(8.5, t.roots[8]!.toString('hex'));
    expect(checkConsistencyProof({ chain: CHAIN, from, to: half, path }, publicKeyPem)).toMatch(/malformed/);
    const padded = [...path.slice(0, -1), `${path[path.length - 1]}00`];
    expect(checkConsistencyProof({ chain: CHAIN, from, to, path: padded }, publicKeyPem)).toMatch(
      /malformed/,
    );
  });
});
