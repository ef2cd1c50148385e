/**
 * The standalone audit-log verifier, for auditors: no database, no Veil server, only
 *   - an export (`npm run audit -- export <chain> <file>`, or GET it from Veil): JSON lines of
 *     {"checkpoint": {...}} and {"seq": n, "entry": "..."};
 *   - the checkpoint signing public key (PEM; `GET /v1/audit-log/public-key`, or from KMS);
 *   - optionally the checkpoints of exports you verified before (--known), which the log must
 *     still contain: that is how a log rolled back to an older copy is caught.
 * It depends only on the log format module (libs/contracts/src/audit-log), which needs node:crypto.
 *
 *   node -r @swc-node/register tools/verify-audit-export.ts --public-key key.pem [--known old.jsonl ...] export.jsonl
 *   node -r @swc-node/register tools/verify-audit-export.ts --public-key key.pem --proof answer.json
 *       checks one answer of GET /v1/audit-log/entries/{eventId}/proof (the entry is in the signed
 *       tree) or of GET /v1/audit-log/consistency (the later checkpoint extends the earlier one).
 *
 * Exit 0: the export verifies. 1: it does not (the first bad entry or checkpoint is named). 2: usage.
 */
import { readFileSync } from 'node:fs';

import {
  ChainVerifier,
  type Checkpoint,
  checkConsistencyProof,
  checkInclusionProof,
  type ConsistencyProof,
  type InclusionProof,
} from '../libs/contracts/src/audit-log';

interface ExportLine {
  checkpoint?: Checkpoint;
  seq?: number;
  entry?: string;
  /** An entry past retention: its content is erased, its leaf hash kept. */
  leafHash?: string;
}

type Entry = { seq: number; entry: string } | { seq: number; leafHash: string };

function readExport(file: string): {
  chain?: string;
  checkpoints: Checkpoint[];
  entries: Entry[];
} {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const out = { checkpoints: [] as Checkpoint[], entries: [] as Entry[] };
  for (const line of lines) {
    const parsed = JSON.parse(line) as ExportLine;
    if (parsed.checkpoint) out.checkpoints.push(parsed.checkpoint);
    else if (typeof parsed.seq === 'number' && typeof parsed.entry === 'string')
      out.entries.push({ seq: parsed.seq, entry: parsed.entry });
    else if (typeof parsed.seq === 'number' && typeof parsed.leafHash === 'string')
      out.entries.push({ seq: parsed.seq, leafHash: parsed.leafHash });
  }
  return { ...out, chain: out.checkpoints[0]?.chain };
}

function main(argv: string[]): number {
  let publicKey: string | undefined;
  let proofFile: string | undefined;
  const known: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--public-key') publicKey = readFileSync(argv[++i]!, 'utf8');
    else if (argv[i] === '--known') known.push(argv[++i]!);
    else if (argv[i] === '--proof') proofFile = argv[++i];
    else files.push(argv[i]!);
  }
  if (publicKey && proofFile && files.length === 0) return verifyProofAnswer(proofFile, publicKey);
  if (!publicKey || files.length !== 1) {
    process.stderr.write(
      'usage: verify-audit-export --public-key key.pem [--known older.jsonl ...] export.jsonl\n' +
        '       verify-audit-export --public-key key.pem --proof answer.json\n',
    );
    return 2;
  }
  const exported = readExport(files[0]!);
  const chain =
    exported.chain ??
    (JSON.parse(exported.entries.find((e) => 'entry' in e)?.entry ?? '{}') as { chain?: string }).chain;
  if (!chain) {
    process.stderr.write('the export holds neither checkpoints nor entries\n');
    return 1;
  }
  // Checkpoints held from earlier exports count as much as the export's own (same key, same chain).
  const bySize = new Map<number, Checkpoint>();
  for (const c of [...known.flatMap((f) => readExport(f).checkpoints), ...exported.checkpoints]) {
    if (c.chain !== chain) continue;
    const seen = bySize.get(c.treeSize);
    if (seen && seen.rootHash !== c.rootHash) {
      process.stderr.write(
        `NOT VERIFIED: two signed checkpoints at size ${c.treeSize} disagree on the root: the log forked\n`,
      );
      return 1;
    }
    bySize.set(c.treeSize, c);
  }
  const verifier = new ChainVerifier(chain, [...bySize.values()], publicKey);
  const entries = [...exported.entries].sort((a, b) => a.seq - b.seq);
  for (const e of entries) {
    const problem =
      'entry' in e ? verifier.add(e.seq, e.entry) : verifier.addPruned(e.seq, Buffer.from(e.leafHash, 'hex'));
    if (problem) {
      process.stderr.write(`NOT VERIFIED: ${chain}: ${problem.message}\n`);
      return 1;
    }
  }
  const problem = verifier.finish();
  if (problem) {
    process.stderr.write(`NOT VERIFIED: ${chain}: ${problem.message}\n`);
    return 1;
  }
  process.stdout.write(
    `verified: ${chain}: ${verifier.frontier.size} entries (${verifier.pruned} past retention), ${verifier.checkpointsVerified} signed checkpoints, root ${verifier.root().toString('hex')}\n`,
  );
  return 0;
}

/** One proof answer of the API: inclusion ({entry, proof}) or consistency ({from, to, path}). */
function verifyProofAnswer(file: string, publicKey: string): number {
  const answer = JSON.parse(readFileSync(file, 'utf8')) as
    { entry: { entry: string }; proof: InclusionProof } | ConsistencyProof;
  if ('proof' in answer) {
    const problem = checkInclusionProof(answer.entry.entry, answer.proof, publicKey);
    if (problem) {
      process.stderr.write(`NOT VERIFIED: ${problem}\n`);
      return 1;
    }
    const { chain, seq, checkpoint } = answer.proof;
    process.stdout.write(
      `verified: ${chain} entry ${seq} is in the tree of ${checkpoint.treeSize} signed at ${checkpoint.signedAt}\n`,
    );
    return 0;
  }
  const problem = checkConsistencyProof(answer, publicKey);
  if (problem) {
    process.stderr.write(`NOT VERIFIED: ${problem}\n`);
    return 1;
  }
  process.stdout.write(
    `verified: ${answer.chain}: the tree of ${answer.to.treeSize} extends the tree of ${answer.from.treeSize}\n`,
  );
  return 0;
}

process.exit(main(process.argv.slice(2)));
