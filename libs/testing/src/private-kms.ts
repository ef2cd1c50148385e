import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChildProcess, spawn } from 'node:child_process';

import { REPO_ROOT } from '@veil/platform/config';

import { expectEventually } from './eventually';
import { freePort } from './private-postgres';

function localKmsBinary(): string {
  const bin = join(process.env.VEIL_CACHE ?? join(REPO_ROOT, '.veil-cache'), 'bin', 'local-kms');
  if (!existsSync(bin))
    throw new Error(`${bin} not found: run "bash tools/infra.sh up kms" once to build it`);
  return bin;
}

/**
 * A KMS endpoint of a test's own (local-kms, seeded like the shared one), which the test may stop
 * and start to play a KMS outage without disturbing other tests.
 */
export class PrivateKms {
  private child?: ChildProcess;

  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<PrivateKms> {
    const kms = new PrivateKms(await freePort(), mkdtempSync(join(tmpdir(), 'veil-kms-')));
    await kms.start();
    return kms;
  }

  async start(): Promise<void> {
    this.child = spawn(localKmsBinary(), [], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(this.port),
        KMS_HOST: '127.0.0.1',
        KMS_DATA_PATH: this.dataDir,
        KMS_SEED_PATH: join(REPO_ROOT, 'deploy', 'kms', 'seed.yaml'),
        KMS_REGION: process.env.AWS_REGION ?? 'eu-west-2',
      },
      stdio: 'ignore',
    });
    await expectEventually(
      async () => {
        const res = await fetch(this.endpoint, { method: 'POST' }).catch(() => undefined);
        if (!res) throw new Error('local-kms not listening yet');
      },
      { timeoutMs: 15_000, intervalMs: 50, description: 'private KMS up' },
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
