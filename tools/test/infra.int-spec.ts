import { CreateKeyCommand, DescribeKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { parseEnvFile, REPO_ROOT } from '@veil/platform/config';
import { createKafkaClient, kafkaSecurityFromEnv } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { freePort } from '@veil/testing';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

jest.setTimeout(300_000);

/**
 * tools/infra.sh against a second, private stack (its own state folder and ports), so the shared
 * stack the other tests use is never touched.
 */
describe('tools/infra.sh', () => {
  const home = mkdtempSync(join(tmpdir(), 'veil-infra-test-'));
  let ports: { kafka: number; controller: number; pg: number; kms: number };
  let env: NodeJS.ProcessEnv;

  function infra(...args: string[]): { code: number; out: string } {
    const result = spawnSync('bash', [join(REPO_ROOT, 'tools/infra.sh'), ...args], {
      env,
      encoding: 'utf8',
      timeout: 180_000,
    });
    return { code: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
  }

  function pids(): Record<string, string> {
    const read = (f: string) => readFileSync(join(home, f), 'utf8').trim();
    return {
      kafka: read('run/kafka.pid'),
      kms: read('run/kms.pid'),
      postgres: read('postgres/postmaster.pid').split('\n')[0]!,
    };
  }

  const pgUrl = () => `postgres://postgres:veil-local-admin@127.0.0.1:${ports.pg}/veil`;
  // The private stack's broker: its own CA and admin credentials, from the env file `up` wrote.
  const kafka = () =>
    createKafkaClient({
      clientId: 'infra-test',
      brokers: [`127.0.0.1:${ports.kafka}`],
      logger: new JsonLogger('test', 'fatal' as never),
      security: kafkaSecurityFromEnv(parseEnvFile(readFileSync(join(home, 'env'), 'utf8'))),
    });
  const kms = () =>
    new KMSClient({
      region: 'eu-west-2',
      endpoint: `http://127.0.0.1:${ports.kms}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });

  async function writeData(): Promise<string> {
    const db = new Client({ connectionString: pgUrl() });
    await db.connect();
    await db.query(`create table infra_probe (v text); insert into infra_probe values ('kept')`);
    await db.end();
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'infra-probe', numPartitions: 1 }] });
    await admin.disconnect();
    const { KeyMetadata } = await kms().send(new CreateKeyCommand({ Description: 'infra probe' }));
    return KeyMetadata!.KeyId!;
  }

  async function readData(keyId: string): Promise<{ row?: string; topic: boolean; key: boolean }> {
    const db = new Client({ connectionString: pgUrl() });
    await db.connect();
    const { rows } = await db
      .query<{ v: string }>(`select v from infra_probe`)
      .catch(() => ({ rows: [] as { v: string }[] }));
    await db.end();
    const admin = kafka().admin();
    await admin.connect();
    const topic = (await admin.listTopics()).includes('infra-probe');
    await admin.disconnect();
    const { Keys } = await kms().send(new ListKeysCommand({}));
    return {
      ...(rows[0] ? { row: rows[0].v } : {}),
      topic,
      key: (Keys ?? []).some((k) => k.KeyId === keyId),
    };
  }

  beforeAll(async () => {
    ports = {
      // components restart on these ports during the test: keep them out of the ephemeral range
      kafka: await freePort({ stable: true }),
      controller: await freePort({ stable: true }),
      pg: await freePort({ stable: true }),
      kms: await freePort({ stable: true }),
    };
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VEIL_HOME: home,
      VEIL_KAFKA_PORT: String(ports.kafka),
      VEIL_KAFKA_CONTROLLER_PORT: String(ports.controller),
      VEIL_PG_PORT: String(ports.pg),
      VEIL_KMS_PORT: String(ports.kms),
    };
  });

  afterAll(() => {
    infra('down');
    rmSync(home, { recursive: true, force: true });
  });

  it('names the process holding a port it needs', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.kms, '127.0.0.1', resolve));
    try {
      const { code, out } = infra('up', 'kms');
      expect(code).not.toBe(0);
      expect(out).toContain(`port ${ports.kms} (needed by local-kms) is in use by pid ${process.pid}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('up is idempotent, down then up keeps data, reset wipes it', async () => {
    const first = infra('up');
    expect(first).toMatchObject({ code: 0 });
    expect(infra('status')).toMatchObject({ code: 0 });
    const before = pids();

    const second = infra('up');
    expect(second.code).toBe(0);
    expect(second.out).toContain('postgres already running');
    expect(second.out).toContain('kafka already running');
    expect(second.out).toContain('kms already running');
    expect(pids()).toEqual(before);

    const keyId = await writeData();
    expect(await readData(keyId)).toEqual({ row: 'kept', topic: true, key: true });

    expect(infra('down')).toMatchObject({ code: 0 });
    const stopped = infra('status');
    expect(stopped.code).toBe(3);
    expect(stopped.out).toMatch(/postgres\s+down/);
    expect(infra('up')).toMatchObject({ code: 0 });
    expect(await readData(keyId)).toEqual({ row: 'kept', topic: true, key: true });

    // the broker takes only SASL over TLS, with a certificate from the stack's own CA
    const env = readFileSync(join(home, 'env'), 'utf8');
    expect(env).toContain('KAFKA_SECURITY_PROTOCOL=sasl_ssl');
    expect(readFileSync(join(home, 'kafka/server.properties'), 'utf8')).toMatch(
      /^listeners=SASL_SSL:\/\/127\.0\.0\.1:\d+,CONTROLLER:/m,
    );

    expect(infra('reset')).toMatchObject({ code: 0 });
    expect(infra('up')).toMatchObject({ code: 0 });
    expect(await readData(keyId)).toEqual({ topic: false, key: false });
    // the committed seed is applied again after a reset
    const { KeyMetadata } = await kms().send(new DescribeKeyCommand({ KeyId: 'alias/veil-audit-signing' }));
    expect(KeyMetadata).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  it('uses external components instead of starting local ones when their variables are set', () => {
    const result = spawnSync('bash', [join(REPO_ROOT, 'tools/infra.sh'), 'status'], {
      env: {
        ...env,
        KAFKA_BROKERS: 'kafka.example:9092',
        DATABASE_URL: 'postgres://u@db.example/veil',
        KMS_ENDPOINT: 'https://kms.example',
      },
      encoding: 'utf8',
    });
    expect(result.stdout).toMatch(/postgres\s+external/);
    expect(result.stdout).toMatch(/kafka\s+external/);
    expect(result.stdout).toMatch(/kms\s+external/);
  });

  it("keeps PostgreSQL where its user can reach it when the clone is in a closed folder (mode 700, e.g. root's home)", async () => {
    const closed = mkdtempSync(join(tmpdir(), 'veil-closed-')); // mode 700
    const closedEnv = { ...env, VEIL_HOME: join(closed, 'home'), VEIL_PG_PORT: String(await freePort()) };
    const run = (...args: string[]) => {
      const result = spawnSync('bash', [join(REPO_ROOT, 'tools/infra.sh'), ...args], {
        env: closedEnv,
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { code: result.status ?? -1, out: `${result.stdout}${result.stderr}` };
    };
    try {
      const up = run('up', 'postgres');
      expect(up.code).toBe(0);
      const asRoot = process.getuid?.() === 0; // only a server run as another user can be shut out
      const place = /postgres keeps its data in (\S+) /.exec(up.out)?.[1];
      expect({ moved: place !== undefined }).toEqual({ moved: asRoot });
      expect(run('status', 'postgres').out).toMatch(/postgres\s+up/);
      const client = new Client({
        connectionString: `postgres://postgres:veil-local-admin@127.0.0.1:${closedEnv.VEIL_PG_PORT}/postgres`,
      });
      await client.connect();
      await client.end();
      expect(run('reset', 'postgres').code).toBe(0);
      if (place) expect(existsSync(place)).toBe(false);
    } finally {
      run('down');
      rmSync(closed, { recursive: true, force: true });
    }
  });

  it('refuses a component variable that is set but empty (it would shadow the local one in the services)', () => {
    for (const variable of ['KAFKA_BROKERS', 'DATABASE_URL', 'KMS_ENDPOINT']) {
      const result = spawnSync('bash', [join(REPO_ROOT, 'tools/infra.sh'), 'status'], {
        env: { ...env, [variable]: '' },
        encoding: 'utf8',
      });
      expect({ variable, status: result.status, stderr: result.stderr }).toEqual({
        variable,
        status: 1,
        stderr: expect.stringContaining(`${variable} is set but empty`),
      });
    }
  });
});
