/**
 * The standalone audit-log verifier, for auditors: no database, no Veil server, only
 *   - an export (`npm run audit -- export <chain> <file>`, or GET it from Veil): JSON lines of
 *     {"checkpoint": {...}} and {"seq": n, "entry": "..."} (an entry past retention as
 *     {"seq": n, "leafHash": "..."}; an entry may carry its leaf hash too, which names an edited entry);
 *   - the checkpoint signing public key (PEM; `GET /v1/audit-log/public-key`, or from KMS);
 *   - the chain the auditor means to verify (`org:<organization id>` or `operator`): never taken from
 *     the export, and every checkpoint handed over must be of it;
 *   - optionally exports of the same chain verified before (--known): the log must still contain
 *     their checkpoints and entries, which is how a log rolled back to an older copy, or rewritten
 *     and signed again, is caught; the first entry that differs is named.
 * Only what a signed checkpoint covers is verified: an export with no checkpoint fails, and so do
 * entries after the last one (reported as UNVERIFIED), unless --allow-unsigned-tail accepts the
 * signed part alone. It depends only on the log format module (libs/contracts/src/audit-log),
 * which needs node:crypto.
 *
 *   node -r @swc-node/register tools/verify-audit-export.ts --public-key key.pem --chain org:org_acme \
 *       [--known older.jsonl ...] [--allow-unsigned-tail] export.jsonl
 *   node -r @swc-node/register tools/verify-audit-export.ts --public-key key.pem [--chain org:org_acme] \
 *       --proof answer.json
 *       checks one answer of GET /v1/audit-log/entries/{eventId}/proof (the entry is in the signed
 *       tree) or of GET /v1/audit-log/consistency (the later checkpoint extends the earlier one).
 *
 * Exit 0: verified. 1: not verified (the first bad entry or checkpoint is named). 2: usage.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

import {
  ChainVerifier,
  type Checkpoint,
  checkConsistencyProof,
  checkInclusionProof,
  type ConsistencyProof,
  type InclusionProof,
  isWholeNumber,
  leafHash,
  malformedCheckpoint,
  parseHashHex,
  type Problem,
} from '@veil/contracts/audit-log';

const USAGE =
  'usage: verify-audit-export --public-key key.pem --chain <chain> [--known older.jsonl ...] [--allow-unsigned-tail] export.jsonl\n' +
  '       verify-audit-export --public-key key.pem [--chain <chain>] --proof answer.json\n';

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

const processOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** The arguments do not say what to verify: exit 2. */
class UsageError extends Error {}

/** What was handed over does not verify: exit 1. */
class NotVerified extends Error {}

interface Options {
  publicKey?: string;
  chain?: string;
  known: string[];
  proof?: string;
  allowUnsignedTail: boolean;
  files: string[];
}

/** Verifies as the command line says; returns the exit code. */
export function main(argv: string[], output: Output = processOutput): number {
  try {
    const options = parseArguments(argv);
    if (options.proof !== undefined) {
      if (options.files.length > 0 || options.known.length > 0 || options.allowUnsignedTail)
        throw new UsageError('--proof takes no export, --known or --allow-unsigned-tail');
      return verifyProofAnswer(options.proof, publicKeyOf(options), options.chain, output);
    }
    if (options.chain === undefined) throw new UsageError('name the chain to verify with --chain');
    if (options.files.length !== 1) throw new UsageError('name exactly one export to verify');
    return verifyExport(options.files[0]!, options.chain, publicKeyOf(options), options, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof NotVerified) {
      output.err(`NOT VERIFIED: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parseArguments(argv: string[]): Options {
  const options: Options = { known: [], allowUnsignedTail: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    // a second --public-key or --chain would leave it unclear which one was verified
    const once = (current: string | undefined): string => {
      if (current !== undefined) throw new UsageError(`${arg} given twice`);
      return value();
    };
    if (arg === '--public-key') options.publicKey = once(options.publicKey);
    else if (arg === '--chain') options.chain = once(options.chain);
    else if (arg === '--proof') options.proof = once(options.proof);
    else if (arg === '--known') options.known.push(value());
    else if (arg === '--allow-unsigned-tail') options.allowUnsignedTail = true;
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else options.files.push(arg);
  }
  return options;
}

function publicKeyOf(options: Options): string {
  if (options.publicKey === undefined) throw new UsageError('name the public key with --public-key');
  const pem = readText(options.publicKey);
  try {
    createPublicKey(pem);
  } catch {
    throw new UsageError(`${options.publicKey} holds no public key (PEM)`);
  }
  return pem;
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

interface ExportedEntry {
  seq: number;
  /** Absent once erased at the end of its retention. */
  entry?: string;
  /** Kept for an erased entry; an export may carry it for the others too. */
  leafHash?: Buffer;
}

interface Export {
  file: string;
  checkpoints: Checkpoint[];
  entries: ExportedEntry[];
}

/** Reads an export line by line: each must be a well-formed checkpoint or entry, nothing is skipped. */
function readExport(file: string): Export {
  const exported: Export = { file, checkpoints: [], entries: [] };
  readText(file)
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      const where = `${file} line ${i + 1}`;
      let line: unknown;
      try {
        line = JSON.parse(text);
      } catch {
        throw new NotVerified(`${where}: malformed: not JSON`);
      }
      if (typeof line !== 'object' || line === null)
        throw new NotVerified(`${where} is neither a checkpoint nor an entry`);
      const fields = line as { checkpoint?: unknown; seq?: unknown; entry?: unknown; leafHash?: unknown };
      if (fields.checkpoint !== undefined) {
        const why = malformedCheckpoint(fields.checkpoint);
        if (why) throw new NotVerified(`${where}: malformed checkpoint: ${why}`);
        exported.checkpoints.push(fields.checkpoint as Checkpoint);
      } else if (fields.seq !== undefined && (fields.entry !== undefined || fields.leafHash !== undefined)) {
        if (!isWholeNumber(fields.seq))
          throw new NotVerified(`${where}: malformed entry: seq ${String(fields.seq)} is not a whole number`);
        if (fields.entry !== undefined && typeof fields.entry !== 'string')
          throw new NotVerified(`${where}: malformed entry: its content is not a string`);
        const leaf = fields.leafHash === undefined ? undefined : parseHashHex(fields.leafHash);
        if (fields.leafHash !== undefined && !leaf)
          throw new NotVerified(`${where}: malformed entry: its leaf hash is not 64 hex digits`);
        exported.entries.push({ seq: fields.seq, entry: fields.entry, leafHash: leaf });
      } else {
        throw new NotVerified(`${where} is neither a checkpoint nor an entry`);
      }
    });
  exported.entries.sort((a, b) => a.seq - b.seq);
  return exported;
}

const leafOf = (e: ExportedEntry): Buffer => (e.entry !== undefined ? leafHash(e.entry) : e.leafHash!);

/** "entry 7", or "entries 4..7 (4)": the entries from `start` up to, not including, `end`. */
function entriesText(start: number, end: number): string {
  return end - start === 1 ? `entry ${start}` : `entries ${start}..${end - 1} (${end - start})`;
}

function verifyExport(
  file: string,
  chain: string,
  publicKey: string,
  options: Options,
  output: Output,
): number {
  const exported = readExport(file);
  const known = options.known.map(readExport);
  // the auditor names the chain: a checkpoint of any other is an error, never skipped
  for (const { file: source, checkpoints } of [exported, ...known]) {
    const foreign = checkpoints.find((c) => c.chain !== chain);
    if (foreign) throw new NotVerified(`${source} holds a checkpoint of ${foreign.chain}, not of ${chain}`);
  }
  if (exported.checkpoints.length === 0)
    throw new NotVerified(`${chain}: ${file} holds no signed checkpoint, so no signature covers any of it`);

  // Checkpoints held from earlier exports count as much as the export's own (same key, same chain).
  const bySize = new Map<number, Checkpoint>();
  for (const c of [...known.flatMap((k) => k.checkpoints), ...exported.checkpoints]) {
    const seen = bySize.get(c.treeSize);
    if (seen && seen.rootHash.toLowerCase() !== c.rootHash.toLowerCase())
      throw new NotVerified(
        `two signed checkpoints at size ${c.treeSize} disagree on the root: the log forked`,
      );
    bySize.set(c.treeSize, c);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const olderLeaves = leavesOf(known);

  const verifier = new ChainVerifier(chain, [...bySize.values()], publicKey);
  const fail = (message: string): never => {
    throw new NotVerified(`${chain}: ${message}`);
  };
  exported.entries.forEach((e, i) => {
    if (exported.entries[i - 1]?.seq === e.seq) fail(`the export holds entry ${e.seq} twice`);
    const older = olderLeaves.get(e.seq);
    if (older && !older.leaf.equals(leafOf(e)))
      fail(`entry ${e.seq} differs from the older export ${older.file}`);
    const problem =
      e.entry !== undefined
        ? verifier.add(e.seq, e.entry, e.leafHash)
        : verifier.addPruned(e.seq, e.leafHash!);
    if (problem) fail(explain(problem, sizes));
  });
  const unfinished = verifier.finish();
  if (unfinished) fail(explain(unfinished, sizes));
  const size = verifier.frontier.size;
  const lost = [...olderLeaves.entries()].find(([seq]) => seq >= size);
  if (lost) fail(`entry ${lost[0]} of the older export ${lost[1].file} is gone (the export ends at ${size})`);

  const signed = bySize.get(sizes[sizes.length - 1]!)!;
  if (size > signed.treeSize) {
    const verb = size - signed.treeSize === 1 ? 'comes' : 'come';
    const tail = `${entriesText(signed.treeSize, size)} ${verb} after the last signed checkpoint (size ${signed.treeSize}): UNVERIFIED, no signature covers them`;
    if (!options.allowUnsignedTail) fail(`${tail}; --allow-unsigned-tail accepts the signed part alone`);
    output.err(`${chain}: ${tail}\n`);
  }
  output.out(
    `verified: ${chain}: ${signed.treeSize} entries (${verifier.pruned} past retention), ${verifier.checkpointsVerified} signed checkpoints, root ${signed.rootHash}\n`,
  );
  return 0;
}

/** The leaf hash of every entry of the older exports, and which export holds it; they must agree. */
function leavesOf(exports: Export[]): Map<number, { leaf: Buffer; file: string }> {
  const leaves = new Map<number, { leaf: Buffer; file: string }>();
  for (const { file, entries } of exports) {
    for (const e of entries) {
      const leaf = leafOf(e);
      const seen = leaves.get(e.seq);
      if (seen && !seen.leaf.equals(leaf))
        throw new NotVerified(`the older exports ${seen.file} and ${file} differ at entry ${e.seq}`);
      leaves.set(e.seq, { leaf, file });
    }
  }
  return leaves;
}

/**
 * The problem as the auditor needs it. A signed root that the entries miss, with no leaf hash or
 * older export to compare with, narrows the edit down to the entries since the previous checkpoint.
 */
function explain(problem: Problem, sizes: number[]): string {
  const size = problem.checkpointSize;
  if (problem.kind !== 'checkpoint_root_mismatch' || size === undefined) return problem.message;
  const previous = sizes.filter((s) => s < size).pop() ?? 0;
  const which =
    size - previous === 1 ? `entry ${previous} differs` : `one of entries ${previous}..${size - 1} differs`;
  return `${problem.message}: ${which} from what was signed`;
}

/** One proof answer of the API: inclusion ({entry, proof}) or consistency ({from, to, path}). */
function verifyProofAnswer(
  file: string,
  publicKey: string,
  chain: string | undefined,
  output: Output,
): number {
  let answer: unknown;
  try {
    answer = JSON.parse(readText(file));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new NotVerified(`${file}: malformed: not JSON`);
  }
  if (typeof answer !== 'object' || answer === null)
    throw new NotVerified(`${file}: malformed: not a proof answer`);
  if ('proof' in answer) {
    const { entry, proof } = answer as { entry?: { entry?: unknown }; proof: InclusionProof | null };
    if (typeof entry?.entry !== 'string' || typeof proof !== 'object' || proof === null)
      throw new NotVerified(`${file}: malformed: not an entry and its proof`);
    if (chain !== undefined && proof.chain !== chain)
      throw new NotVerified(`${file} proves an entry of ${String(proof.chain)}, not of ${chain}`);
    const problem = checkInclusionProof(entry.entry, proof, publicKey);
    if (problem) throw new NotVerified(problem);
    output.out(
      `verified: ${proof.chain} entry ${proof.seq} is in the tree of ${proof.checkpoint.treeSize} signed at ${proof.checkpoint.signedAt}\n`,
    );
    return 0;
  }
  const proof = answer as ConsistencyProof;
  if (chain !== undefined && proof.chain !== chain)
    throw new NotVerified(`${file} proves consistency of ${String(proof.chain)}, not of ${chain}`);
  const problem = checkConsistencyProof(proof, publicKey);
  if (problem) throw new NotVerified(problem);
  output.out(
    `verified: ${proof.chain}: the tree of ${proof.to.treeSize} extends the tree of ${proof.from.treeSize}\n`,
  );
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
