import { generateKeyPairSync, sign } from 'node:crypto';

import { ChainVerifier } from './chain-verifier';
import { type Checkpoint, checkpointMessage, encodeEntry } from './log-format';
import { appendLeaf, EMPTY_ROOT, type Frontier, frontierRoot, leafHash } from './merkle';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const CHAIN = 'org:org_test';
const DAY = 86_400_000;

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

/** A chain of `size` entries and checkpoints at the given sizes, signed at the given ages. */
function chain(size: number, checkpoints: { size: number; daysAgo: number }[]) {
  const entries = Array.from({ length: size }, (_, i) => entry(i));
  const roots: Buffer[] = [];
  const frontier: Frontier = { size: 0, peaks: [] };
  for (const e of entries) {
    appendLeaf(frontier, leafHash(e));
    roots.push(frontierRoot(frontier));
  }
  const signed: Checkpoint[] = checkpoints.map(({ size: treeSize, daysAgo }) => {
    const unsigned = {
      chain: CHAIN,
      treeSize,
      rootHash: roots[treeSize - 1]!.toString('hex'),
      signedAt: new Date(Date.now() - daysAgo * DAY).toISOString(),
    };
    return {
      ...unsigned,
      keyId: 'test',
      algorithm: 'ECDSA_SHA_256' as const,
      signature: sign('sha256', checkpointMessage(unsigned), privateKey).toString('base64'),
    };
  });
  return { entries, checkpoints: signed };
}

/** Replays the chain with the entries at `erased` positions present only as their leaf hashes. */
function verify(c: ReturnType<typeof chain>, erased: number[] = []) {
  const verifier = new ChainVerifier(CHAIN, c.checkpoints, publicKeyPem);
  for (const [seq, e] of c.entries.entries()) {
    const problem = erased.includes(seq) ? verifier.addPruned(seq, leafHash(e)) : verifier.add(seq, e);
    if (problem) return problem;
  }
  return verifier.finish();
}

describe('ChainVerifier: erased entries and checkpoint dates', () => {
  it('accepts an honest chain, and entries erased under a checkpoint at least 30 days old', () => {
    const c = chain(10, [
      { size: 4, daysAgo: 400 },
      { size: 10, daysAgo: 1 },
    ]);
    expect(verify(c)).toBeUndefined();
    expect(verify(c, [0, 1, 2, 3])).toBeUndefined();
  });

  it('names an entry erased before its time, or with no checkpoint covering it', () => {
    const c = chain(10, [
      { size: 4, daysAgo: 400 },
      { size: 8, daysAgo: 5 },
    ]);
    expect(verify(c, [5])).toMatchObject({ kind: 'entry_erased', seq: 5 });
    expect(verify(c, [9])).toMatchObject({ kind: 'entry_erased', seq: 9 }); // after the last checkpoint
    expect(verify(chain(3, []), [0])).toMatchObject({ kind: 'entry_erased', seq: 0 });
  });

  it('flags a checkpoint dated before a smaller one (a backdated signature)', () => {
    const c = chain(10, [
      { size: 4, daysAgo: 2 },
      { size: 6, daysAgo: 400 },
    ]);
    expect(verify(c, [4])).toMatchObject({ kind: 'checkpoint_out_of_order', checkpointSize: 6 });
  });
});

describe('ChainVerifier: malformed input', () => {
  const signed = (treeSize: number, rootHash: string): Checkpoint => {
    const unsigned = { chain: CHAIN, treeSize, rootHash, signedAt: new Date().toISOString() };
    return {
      ...unsigned,
      keyId: 'test',
      algorithm: 'ECDSA_SHA_256',
      signature: sign('sha256', checkpointMessage(unsigned), privateKey).toString('base64'),
    };
  };

  it('refuses a signed checkpoint whose size is not a whole number or whose root is not a hash', () => {
    const c = chain(4, [{ size: 4, daysAgo: 1 }]);
    const root = c.checkpoints[0]!.rootHash;
    for (const bad of [
      signed(2.5, root),
      signed(-1, root),
      signed(4, `${root}00`),
      signed(4, root.slice(2)),
    ]) {
      const verifier = new ChainVerifier(CHAIN, [...c.checkpoints, bad], publicKeyPem);
      expect(verifier.add(0, c.entries[0]!)).toMatchObject({ kind: 'checkpoint_malformed' });
    }
  });

  it('names an erased entry whose kept leaf hash is not 32 bytes', () => {
    const c = chain(4, [{ size: 4, daysAgo: 400 }]);
    const verifier = new ChainVerifier(CHAIN, c.checkpoints, publicKeyPem);
    expect(verifier.add(0, c.entries[0]!)).toBeUndefined();
    expect(verifier.addPruned(1, leafHash(c.entries[1]!).subarray(1))).toMatchObject({
      kind: 'leaf_hash_mismatch',
      seq: 1,
    });
  });

  it('checks a signed checkpoint of the empty tree against MTH({}) = SHA-256()', () => {
    const verifier = new ChainVerifier(CHAIN, [signed(0, EMPTY_ROOT.toString('hex'))], publicKeyPem);
    expect(verifier.finish()).toBeUndefined();
    expect(verifier.checkpointsVerified).toBe(1);
    const forged = new ChainVerifier(CHAIN, [signed(0, leafHash('x').toString('hex'))], publicKeyPem);
    expect(forged.finish()).toMatchObject({ kind: 'checkpoint_root_mismatch', checkpointSize: 0 });
  });
});
