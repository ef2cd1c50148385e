import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A port nothing listens on. With `stable`, it is taken below the kernel's ephemeral range, so an
 * outgoing connection cannot be holding it when a component is restarted on it later.
 */
export async function freePort(options: { stable?: boolean } = {}): Promise<number> {
  if (options.stable) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (await canListen(port)) return port;
    }
    throw new Error('no free port found below the ephemeral range');
  }
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries not found (tools/infra.sh up installs them)');
  return join(root, newest, 'bin');
}

/**
 * A throwaway PostgreSQL cluster on its own port, for tests that stop and start the database
 * (which they must not do to the shared one). As root it runs as the postgres user.
 */
export class PrivatePostgres {
  private constructor(
    readonly dataDir: string,
    readonly port: number,
    readonly password: string,
  ) {}

  get adminUrl(): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/veil`;
  }

  static async create(): Promise<PrivatePostgres> {
    const base = mkdtempSync(join(tmpdir(), 'veil-pg-'));
    const dataDir = join(base, 'data');
    const password = 'veil-test-admin';
    const pwfile = join(base, 'pw');
    writeFileSync(pwfile, `${password}\n`);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(base, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    const pg = new PrivatePostgres(dataDir, await freePort(), password);
    pg.run('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    await pg.start();
    const { Client } = await import('pg');
    const client = new Client({ connectionString: pg.adminUrl.replace(/\/veil$/, '/postgres') });
    await client.connect();
    await client.query('create database veil');
    await client.end();
    return pg;
  }

  private run(tool: string, args: string[]): string {
    const bin = join(postgresBinDir(), tool);
    const asRoot = process.getuid?.() === 0;
    const result = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8' })
      : spawnSync(bin, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${tool} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  }

  async start(): Promise<void> {
    this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dataDir, '..', 'postgres.log'),
      '-w',
      '-t',
      '60',
      'start',
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${this.port} -c unix_socket_directories='' -c max_connections=200`,
    ]);
  }

  async stop(): Promise<void> {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } catch {
      // already stopped
    }
    rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
  }
}
