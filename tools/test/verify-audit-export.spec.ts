import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  appendLeaf,
  type AuditLogEntry,
  type Checkpoint,
  checkpointMessage,
  consistencyRanges,
  EMPTY_ROOT,
  encodeEntry,
  type Frontier,
  frontierRoot,
  inclusionRanges,
  leafHash,
  type NodeKey,
  rangeHash,
} from '@veil/contracts/audit-log';
import { main } from '../verify-audit-export';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const CHAIN = 'org:org_acme';
const dir = mkdtempSync(join(tmpdir(), 'veil-verify-export-'));
const keyFile = join(dir, 'key.pem');
writeFileSync(keyFile, publicKey.export({ type: 'spki', format: 'pem' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entryText(
  chain: string,
  seq: number,
  outcome: AuditLogEntry['event']['outcome'] = 'allowed',
): string {
  return encodeEntry({
    v: 1,
    chain,
    seq,
    eventId: `evt_${chain}_${seq}`,
    organizationId: chain.replace(/^org:/, ''),
    occurredAt: '2026-01-01T00:00:00.000Z',
    producer: 'test',
    event: { action: 'pii.reveal', actor: { type: 'api_key', id: 'key_1' }, outcome, targets: {} },
  });
}

function signCheckpoint(chain: string, treeSize: number, rootHash: string): Checkpoint {
  const unsigned = { chain, treeSize, rootHash, signedAt: new Date().toISOString() };
  return {
    ...unsigned,
    keyId: 'test',
    algorithm: 'ECDSA_SHA_256',
    signature: sign('sha256', checkpointMessage(unsigned), privateKey).toString('base64'),
  };
}

/** A chain of `size` entries (any of them replaced by `edited`), its roots and stored subtrees. */
function buildChain(size: number, chain = CHAIN, edited: Record<number, string> = {}) {
  const entries = Array.from({ length: size }, (_, seq) => edited[seq] ?? entryText(chain, seq));
  const frontier: Frontier = { size: 0, peaks: [] };
  const roots: Buffer[] = [EMPTY_ROOT];
  const stored = new Map<string, Buffer>();
  entries.forEach((e, seq) => {
    const leaf = leafHash(e);
    stored.set(`0/${seq}`, leaf);
    for (const n of appendLeaf(frontier, leaf)) stored.set(`${n.level}/${n.index}`, n.hash);
    roots.push(frontierRoot(frontier));
  });
  const node = ({ level, index }: NodeKey) => stored.get(`${level}/${index}`)!;
  const checkpoint = (treeSize: number) => signCheckpoint(chain, treeSize, roots[treeSize]!.toString('hex'));
  return { chain, entries, roots, node, checkpoint };
}

type Chain = ReturnType<typeof buildChain>;

/** An export file as Veil writes it: checkpoints, then entries (and leaf hashes, when asked). */
function writeExport(
  name: string,
  c: Chain,
  options: {
    checkpointsAt: number[];
    extraCheckpoints?: Checkpoint[];
    entries?: string[];
    withLeafHashes?: boolean;
  },
): string {
  const entries = options.entries ?? c.entries;
  const lines = [
    ...options.checkpointsAt.map((size) => ({ checkpoint: c.checkpoint(size) })),
    ...(options.extraCheckpoints ?? []).map((checkpoint) => ({ checkpoint })),
    ...entries.map((entry, seq) => ({
      seq,
      entry,
      ...(options.withLeafHashes ? { leafHash: leafHash(c.entries[seq]!).toString('hex') } : {}),
    })),
  ];
  return writeLines(name, lines);
}

function writeLines(name: string, lines: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

function run(...args: string[]) {
  let out = '';
  let err = '';
  const code = main(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const verify = (file: string, ...options: string[]) =>
  run('--public-key', keyFile, '--chain', CHAIN, ...options, file);

describe('verify-audit-export: only what a signature covers is verified', () => {
  const honest = buildChain(10);

  it('verifies an export whose every entry a signed checkpoint covers', () => {
    const file = writeExport('honest.jsonl', honest, { checkpointsAt: [4, 10] });
    const result = verify(file);
    expect(result.out).toContain(`verified: ${CHAIN}: 10 entries`);
    expect(result.code).toBe(0);
  });

  it('fails an export with no signed checkpoint, even with --allow-unsigned-tail', () => {
    const file = writeExport('unsigned.jsonl', honest, { checkpointsAt: [] });
    for (const result of [verify(file), verify(file, '--allow-unsigned-tail')]) {
      expect(result.err).toMatch(/NOT VERIFIED: .*no signed checkpoint/);
      expect(result.code).toBe(1);
    }
    const empty = writeLines('empty.jsonl', []);
    expect(verify(empty).code).toBe(1);
  });

  it('fails entries beyond the last signed checkpoint unless --allow-unsigned-tail, and reports them as unverified', () => {
    const file = writeExport('tail.jsonl', honest, { checkpointsAt: [4, 8] });
    const strict = verify(file);
    expect(strict.err).toContain(
      'entries 8..9 (2) come after the last signed checkpoint (size 8): UNVERIFIED',
    );
    expect(strict.out).not.toContain('verified:');
    expect(strict.code).toBe(1);
    const allowed = verify(file, '--allow-unsigned-tail');
    expect(allowed.out).toContain(`verified: ${CHAIN}: 8 entries`);
    expect(allowed.err).toContain(
      'entries 8..9 (2) come after the last signed checkpoint (size 8): UNVERIFIED',
    );
    expect(allowed.code).toBe(0);
  });

  it('takes the chain from --chain, never from the export: required, and another chain fails', () => {
    const file = writeExport('acme.jsonl', honest, { checkpointsAt: [10] });
    expect(run('--public-key', keyFile, file).code).toBe(2);
    const other = run('--public-key', keyFile, '--chain', 'org:org_other', file);
    expect(other.err).toContain(`NOT VERIFIED: ${file} holds a checkpoint of ${CHAIN}, not of org:org_other`);
    expect(other.code).toBe(1);
  });

  it('refuses an export that also holds checkpoints of another chain, rather than dropping them', () => {
    const operator = buildChain(3, 'operator');
    const file = writeExport('mixed.jsonl', honest, {
      checkpointsAt: [10],
      extraCheckpoints: [operator.checkpoint(3)],
    });
    const result = verify(file);
    expect(result.err).toContain(`NOT VERIFIED: ${file} holds a checkpoint of operator, not of ${CHAIN}`);
    expect(result.code).toBe(1);
  });

  it('refuses --known exports of another chain', () => {
    const file = writeExport('current.jsonl', honest, { checkpointsAt: [10] });
    const other = buildChain(5, 'org:org_other');
    const known = writeExport('other-older.jsonl', other, { checkpointsAt: [5] });
    const result = verify(file, '--known', known);
    expect(result.err).toContain(
      `NOT VERIFIED: ${known} holds a checkpoint of org:org_other, not of ${CHAIN}`,
    );
    expect(result.code).toBe(1);
  });
});

describe('verify-audit-export: names the first bad entry', () => {
  const honest = buildChain(10);
  const editedEntry5 = entryText(CHAIN, 5, 'denied');
  const editedEntries = honest.entries.map((e, seq) => (seq === 5 ? editedEntry5 : e));

  it('names the seq of an edited entry when the export carries leaf hashes', () => {
    const file = writeExport('edited-with-leaves.jsonl', honest, {
      checkpointsAt: [4, 10],
      entries: editedEntries,
      withLeafHashes: true,
    });
    const result = verify(file);
    expect(result.err).toContain(
      'NOT VERIFIED: org:org_acme: entry 5: its content does not match its leaf hash',
    );
    expect(result.code).toBe(1);
  });

  it('names the first entry that differs from a --known older export, even in a history re-signed since', () => {
    const older = writeExport('older.jsonl', honest, {
      checkpointsAt: [4, 6],
      entries: honest.entries.slice(0, 6),
    });
    // edited under the honest checkpoints
    const edited = writeExport('edited.jsonl', honest, { checkpointsAt: [4, 10], entries: editedEntries });
    const named = verify(edited, '--known', older);
    expect(named.err).toContain(`entry 5 differs from the older export ${older}`);
    expect(named.code).toBe(1);
    // rewritten and re-signed: consistent in itself, so only the older export can tell
    const rewritten = buildChain(10, CHAIN, { 5: editedEntry5 });
    const resigned = writeExport('resigned.jsonl', rewritten, { checkpointsAt: [10] });
    expect(verify(resigned).code).toBe(0);
    const caught = verify(resigned, '--known', older);
    expect(caught.err).toContain(`entry 5 differs from the older export ${older}`);
    expect(caught.code).toBe(1);
  });

  it('names the signed checkpoint and the entries that hold the edit when nothing else can name it', () => {
    const file = writeExport('edited-plain.jsonl', honest, {
      checkpointsAt: [4, 8, 10],
      entries: editedEntries,
    });
    const result = verify(file);
    expect(result.err).toContain('checkpoint at size 8: the entries do not hash to the signed root');
    expect(result.err).toContain('one of entries 4..7 differs from what was signed');
    expect(result.code).toBe(1);
  });

  it('rejects malformed hashes, sizes and lines in an export', () => {
    const root = honest.roots[10]!.toString('hex');
    const cases: [string, unknown[]][] = [
      ['size 9.5', [{ checkpoint: signCheckpoint(CHAIN, 9.5, root) }]],
      ['root with junk', [{ checkpoint: signCheckpoint(CHAIN, 10, `${root}zz`) }]],
      ['erased entry, short hash', [{ seq: 10, leafHash: root.slice(2) }]],
      ['erased entry, junk hash', [{ seq: 10, leafHash: `${root.slice(2)}zz` }]],
      ['fractional seq', [{ seq: 9.5, entry: honest.entries[9] }]],
      ['neither checkpoint nor entry', [{ seq: 10 }]],
    ];
    for (const [name, extra] of cases) {
      const lines = [
        { checkpoint: honest.checkpoint(10) },
        ...honest.entries.map((entry, seq) => ({ seq, entry })),
        ...extra,
      ];
      const result = verify(writeLines(`malformed-${name.replace(/\W+/g, '-')}.jsonl`, lines));
      expect({ name, code: result.code, err: result.err }).toMatchObject({
        name,
        code: 1,
        err: expect.stringMatching(/NOT VERIFIED: .*line \d+: .*malformed|is neither/) as unknown,
      });
    }
  });
});

describe('verify-audit-export --proof', () => {
  const c = buildChain(8);
  const hex = (b: Buffer) => b.toString('hex');
  const answer = (name: string, body: unknown) => writeLines(name, [body]);
  const proofRun = (file: string) => run('--public-key', keyFile, '--proof', file);

  it('verifies inclusion and consistency answers, and rejects malformed hashes and sizes', () => {
    const path = inclusionRanges(5, 8).map((r) => hex(rangeHash(r, c.node)));
    const inclusion = {
      entry: { entry: c.entries[5] },
      proof: { chain: CHAIN, seq: 5, checkpoint: c.checkpoint(8), path },
    };
    expect(proofRun(answer('inclusion.json', inclusion)).code).toBe(0);
    const junk = { ...inclusion, proof: { ...inclusion.proof, path: [`${path[0]}zz`, ...path.slice(1)] } };
    const rejected = proofRun(answer('inclusion-junk.json', junk));
    expect(rejected.err).toMatch(/NOT VERIFIED: .*malformed/);
    expect(rejected.code).toBe(1);

    const consistency = {
      chain: CHAIN,
      from: c.checkpoint(4),
      to: c.checkpoint(8),
      path: consistencyRanges(4, 8).map((r) => hex(rangeHash(r, c.node))),
    };
    expect(proofRun(answer('consistency.json', consistency)).code).toBe(0);
    const fromEmpty = { chain: CHAIN, from: c.checkpoint(0), to: c.checkpoint(8), path: [] };
    expect(proofRun(answer('consistency-empty.json', fromEmpty)).code).toBe(0);
    const half = { ...consistency, to: signCheckpoint(CHAIN, 8.5, hex(c.roots[8]!)) };
    const refused = proofRun(answer('consistency-half.json', half));
    expect(refused.err).toMatch(/NOT VERIFIED: .*malformed/);
    expect(refused.code).toBe(1);
  });

  it('exits 2 on usage errors', () => {
    const file = writeExport('usage.jsonl', c, { checkpointsAt: [8] });
    expect(run().code).toBe(2);
    expect(run('--chain', CHAIN, file).code).toBe(2); // no key
    expect(run('--public-key', keyFile, file, '--chain').code).toBe(2); // option without its value
    expect(run('--public-key', keyFile, '--chain', CHAIN, '--frobnicate', file).code).toBe(2);
    expect(run('--public-key', keyFile, '--chain', CHAIN, file, file).code).toBe(2);
    expect(run('--public-key', file, '--chain', CHAIN, file).code).toBe(2); // not a key
  });
});
