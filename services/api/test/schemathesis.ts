import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '@veil/platform/config';

/** Where the pinned Python tools live: created on first use, rebuilt when the pins change. */
const VENV = join(REPO_ROOT, '.veil-cache', 'python');
const REQUIREMENTS = join(REPO_ROOT, 'tools', 'python-requirements.txt');
const STAMP = join(VENV, 'requirements.sha256');

export interface Run {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** Runs a command to its end (or kills it after `timeoutMs`), keeping stdout and stderr together. */
export function run(command: string, args: string[], timeoutMs: number, cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, timedOut });
    });
  });
}

/**
 * The schemathesis CLI from tools/python-requirements.txt, in a virtualenv under .veil-cache/python
 * (git-ignored), so a new machine needs nothing installed by hand but python3 and PyPI.
 */
export async function schemathesis(): Promise<string> {
  const cli = join(VENV, 'bin', 'schemathesis');
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(cli) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === wanted) return cli;
  for (const [command, args] of [
    ['python3', ['-m', 'venv', '--clear', VENV]],
    [
      join(VENV, 'bin', 'pip'),
      ['install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', REQUIREMENTS],
    ],
  ] as const) {
    const done = await run(command, [...args], 300_000);
    if (done.code !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${done.output}`);
  }
  writeFileSync(STAMP, wanted);
  return cli;
}

/** What the JSON run report (`--report json`) says; only the fields the tests read. */
export interface RunReport {
  complete: boolean;
  exit_code: number;
  running_time: number;
  operations: { total: number; selected: number; tested: number; errored: number; skipped: number } | null;
  test_cases: { generated: number; with_failures: number; unique_failures: number; errored: number };
  failures: { code: string; title: string; count: number; operations: string[] }[];
  errors: { title: string; count: number }[];
  warnings: string[];
}

/** One generated request and its answer, from the NDJSON event stream (`--report ndjson`). */
export interface Exchange {
  operation: string;
  method: string;
  path: string;
  /** positive: the request conforms to the document; negative: it deliberately does not. */
  mode: string;
  phase: string;
  status: number;
  headers: Record<string, string[]>;
  body: Buffer;
  checks: { name: string; status: string }[];
}

interface Recorder {
  label: string;
  cases?: Record<
    string,
    {
      value: {
        method: string;
        path: string;
        meta?: { generation?: { mode?: string }; phase?: { name?: string } };
      };
    }
  >;
  interactions?: Record<
    string,
    {
      response?: {
        status_code: number;
        headers: Record<string, string[]>;
        content?: { $base64?: string } | string | null;
      };
    }
  >;
  checks?: Record<string, { name: string; status: string }[]>;
}

export function readExchanges(path: string): Exchange[] {
  const exchanges: Exchange[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const recorder = (JSON.parse(line) as { ScenarioFinished: { recorder: Recorder } }).ScenarioFinished
      .recorder;
    for (const [id, recorded] of Object.entries(recorder.cases ?? {})) {
      const response = recorder.interactions?.[id]?.response;
      if (!response) continue; // not sent (e.g. filtered out)
      const content = response.content;
      exchanges.push({
        operation: recorder.label,
        method: recorded.value.method,
        path: recorded.value.path,
        mode: recorded.value.meta?.generation?.mode ?? 'unknown',
        phase: recorded.value.meta?.phase?.name ?? 'unknown',
        status: response.status_code,
        headers: response.headers,
        body:
          typeof content === 'string'
            ? Buffer.from(content, 'utf8')
            : Buffer.from(content?.$base64 ?? '', 'base64'),
        checks: recorder.checks?.[id] ?? [],
      });
    }
  }
  return exchanges;
}

/** The answer's bytes as sent, headers included. */
export function answerBytes(exchange: Exchange): Buffer {
  const head = Object.entries(exchange.headers)
    .map(([name, values]) => `${name}: ${values.join(', ')}\n`)
    .join('');
  return Buffer.concat([Buffer.from(head, 'utf8'), exchange.body]);
}
