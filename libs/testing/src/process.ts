import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { REPO_ROOT } from '@veil/platform/config';
import { serviceEntry, serviceEnvironment, type ServiceManifest } from '@veil/service-catalog';

import { expectEventually } from './eventually';

export function logDirectory(): string {
  return join(process.env.VEIL_HOME ?? join(REPO_ROOT, '.veil'), 'logs');
}

/** A TypeScript entry point run as a real child process (compiled on the fly by @swc-node/register). */
export class ManagedProcess {
  private child?: ChildProcess;
  private exitPromise?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly entry: string,
    readonly env: Record<string, string>,
    readonly logFile: string,
    readonly args: string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): this {
    if (this.running) throw new Error(`${this.entry} is already running`);
    mkdirSync(dirname(this.logFile), { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    // VEIL_PROCESS_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the processes.
    const nodeArgs = (process.env.VEIL_PROCESS_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...nodeArgs, '-r', '@swc-node/register', join(REPO_ROOT, this.entry), ...this.args],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    this.exitPromise = new Promise((resolve) => {
      // 'close' comes after the process exited and its output pipes drained; the exit counts once
      // the log file holds all of it, so a test can read what the process printed last.
      child.on('close', (code, signal) => {
        log.end(() => resolve({ code, signal }));
      });
    });
    this.child = child;
    return this;
  }

  /** SIGTERM and wait for the exit (graceful shutdown). */
  async stop(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exitPromise) throw new Error('not started');
    if (this.running) this.child.kill('SIGTERM');
    return this.waitExit(timeoutMs);
  }

  /** kill -9: no cleanup, no drain. */
  async kill(): Promise<void> {
    if (this.running) this.child!.kill('SIGKILL');
    await this.waitExit(10_000);
  }

  async waitExit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exitPromise) throw new Error('not started');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exitPromise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${this.entry} did not exit in ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  logs(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

/** A Veil service as a real process, configured from the infrastructure settings like `npm start` does. */
export class ServiceProcess extends ManagedProcess {
  readonly service: ServiceManifest;

  constructor(
    name: string,
    options: { infra?: NodeJS.ProcessEnv; overrides?: Record<string, string>; logFile?: string } = {},
  ) {
    const service = serviceEntry(name);
    const overrides = options.overrides ?? {};
    // A test's service on a port of its own gets a management port of its own too (any free one).
    const management: Record<string, string> =
      overrides.PORT && !overrides.MANAGEMENT_PORT ? { MANAGEMENT_PORT: '0' } : {};
    const env = serviceEnvironment(service, options.infra ?? process.env, { ...management, ...overrides });
    super(
      `services/${name}/src/main.ts`,
      env,
      options.logFile ?? join(logDirectory(), 'test', `${name}-${Date.now()}-${process.pid}.log`),
    );
    this.service = service;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  async get(path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.baseUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body };
  }

  /** The management listener (detailed health, metrics), as the service logged it at boot. */
  async managementUrl(timeoutMs = 30_000): Promise<string> {
    const port = this.env.MANAGEMENT_PORT;
    if (port && port !== '0') return `http://127.0.0.1:${port}`;
    return expectEventually(
      async () => {
        const found = /"msg":"management listening","url":"([^"]+)"/.exec(this.logs());
        if (!found) throw new Error(`${this.service.name} has not logged its management URL`);
        return found[1]!;
      },
      { timeoutMs, intervalMs: 100, description: `${this.service.name} management URL` },
    );
  }

  /** GET on the management listener: `/health/ready` with every check, `/metrics`. */
  async management(path: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${await this.managementUrl()}${path}`, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (metrics)
    }
    return { status: res.status, body };
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await expectEventually(
      async () => {
        if (!this.running) throw new Error(`${this.service.name} exited; log:\n${this.logs().slice(-3000)}`);
        const { status, body } = await this.get('/health/ready');
        if (status !== 200) throw new Error(`ready answered ${status}: ${JSON.stringify(body)}`);
      },
      { timeoutMs, intervalMs: 200, description: `${this.service.name} ready` },
    );
  }
}
