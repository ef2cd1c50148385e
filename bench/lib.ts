import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '@veil/platform/config';
import { ServiceProcess } from '@veil/testing';

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

/** Peak resident set size of a live process (Linux VmHWM), in MiB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** Runs a bench worker (a TypeScript entry) in its own process; resolves with its last stdout line, parsed. */
export function runWorker<T>(entry: string, args: string[], env: Record<string, string>): Promise<T> {
  return new Promise((resolve, reject) => {
    // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the workers.
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...nodeArgs, '-r', '@swc-node/register', join(REPO_ROOT, entry), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) return reject(new Error(`${entry} ${args.join(' ')} exited ${code}`));
      resolve(JSON.parse(line) as T);
    });
  });
}

/** CPU seconds (user + system) consumed so far by each process group of interest. */
export function cpuSecondsByComponent(named: Record<string, number | undefined>): Record<string, number> {
  const tick = 100; // USER_HZ on Linux
  const out: Record<string, number> = {};
  const read = (pid: number): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / tick;
    } catch {
      return 0;
    }
  };
  for (const [name, pid] of Object.entries(named)) if (pid) out[name] = read(pid);
  // every PostgreSQL backend counts, whichever service it serves
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') postgres += read(Number(entry));
    } catch {
      // process gone
    }
  }
  out.postgres = postgres;
  return out;
}

/** Writes bench/results/<name>-<time>.json and returns its path. */
export function writeResults(name: string, summary: object): string {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  return file;
}

/** CPU seconds so far of PostgreSQL backends, grouped by the application_name of their client. */
export async function postgresCpuByApplication(
  query: (sql: string) => Promise<{ pid: number; app: string }[]>,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { pid, app } of await query(
    `select pid, coalesce(nullif(application_name, ''), backend_type) as app from pg_stat_activity`,
  )) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out[app] = (out[app] ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // backend gone, or PostgreSQL runs elsewhere
    }
  }
  return out;
}

const started = new Set<ServiceProcess>();

/** A service for a benchmark to run: stopped however the benchmark ends, failures included. */
export function benchService(...args: ConstructorParameters<typeof ServiceProcess>): ServiceProcess {
  const service = new ServiceProcess(...args);
  started.add(service);
  return service;
}

/** Runs a benchmark's main; a failed run stops the services it started instead of leaving them behind. */
export function runBenchmark(main: () => Promise<void>): void {
  void main().then(
    () => process.exit(0),
    async (error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
      await Promise.allSettled([...started].filter((s) => s.running).map((s) => s.stop()));
      process.exit(1);
    },
  );
}
