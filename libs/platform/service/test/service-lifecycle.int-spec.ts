import { provisionServiceDatabases } from '@veil/platform/database';
import { SERVICE_CATALOG, serviceDatabasePassword } from '../src';
import { expectEventually, freePort, ManagedProcess, PrivatePostgres, ServiceProcess } from '@veil/testing';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

jest.setTimeout(240_000);

interface Ready {
  status: string;
  checks: Record<string, { status: string }>;
}

describe('every service: boot, health, metrics, database outage, graceful shutdown', () => {
  let pg: PrivatePostgres;
  let services: ServiceProcess[] = [];

  beforeAll(async () => {
    // A database of their own: this test stops it, which it must not do to the shared one.
    pg = await PrivatePostgres.create();
    await provisionServiceDatabases(
      pg.adminUrl,
      SERVICE_CATALOG.map((s) => ({ schema: s.schema, password: serviceDatabasePassword(s) })),
    );
    const infra = { ...process.env, DATABASE_URL: pg.adminUrl };
    services = await Promise.all(
      SERVICE_CATALOG.map(
        async (s) => new ServiceProcess(s.name, { infra, overrides: { PORT: String(await freePort()) } }),
      ),
    );
    for (const s of services) s.start();
    await Promise.all(services.map((s) => s.waitReady(120_000)));
  });

  afterAll(async () => {
    await Promise.allSettled(services.filter((s) => s.running).map((s) => s.kill()));
    await pg?.destroy();
  });

  it('reports live and ready with its dependencies (vault includes KMS), and serves Prometheus metrics', async () => {
    for (const s of services) {
      expect(await s.get('/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
      const ready = await s.get('/health/ready');
      const expected = [
        'database',
        'kafka',
        ...(s.service.needsKms ? ['kms'] : []),
        ...(s.service.name === 'api' ? ['api-keys'] : []),
      ].sort();
      expect(Object.keys((ready.body as Ready).checks).sort()).toEqual(expected);
      const metrics = await s.get('/metrics');
      expect(metrics.status).toBe(200);
      expect(String(metrics.body)).toContain(`process_cpu_user_seconds_total{service="${s.service.name}"}`);
    }
  });

  it('turns not-ready when PostgreSQL stops and ready again when it returns, without crashing', async () => {
    const pids = services.map((s) => s.pid);
    await pg.stop();
    await Promise.all(
      services.map((s) =>
        expectEventually(
          async () => {
            const ready = await s.get('/health/ready');
            expect(ready.status).toBe(503);
            expect((ready.body as Ready).checks.database?.status).toBe('down');
            expect((await s.get('/health/live')).status).toBe(200);
          },
          { timeoutMs: 30_000, description: `${s.service.name} not ready` },
        ),
      ),
    );
    await pg.start();
    await Promise.all(services.map((s) => s.waitReady(60_000)));
    expect(services.map((s) => s.pid)).toEqual(pids);
    expect(services.every((s) => s.running)).toBe(true);
  });

  it('shuts down gracefully on SIGTERM and exits 0', async () => {
    const results = await Promise.all(services.map((s) => s.stop(30_000)));
    expect(results).toEqual(services.map(() => ({ code: 0, signal: null })));
    for (const s of services) expect(s.logs()).toContain('"msg":"stopped cleanly"');
  });
});

describe('a service started with invalid configuration', () => {
  it('exits non-zero with one line per bad variable, naming it', async () => {
    const proc = new ManagedProcess(
      'services/vault/src/main.ts',
      {
        KAFKA_BROKERS: 'not a broker list',
        DATABASE_URL: 'mysql://root@db/veil',
        PORT: 'eighty',
        AWS_REGION: '',
      },
      join(tmpdir(), `veil-bad-config-${process.pid}.log`),
    ).start();
    const exit = await proc.waitExit(30_000);
    expect(exit.code).toBe(78);
    const lines = proc
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('vault: config: '));
    expect(lines.map((l) => l.replace(/^vault: config: /, '').split(':')[0])).toEqual([
      'AWS_REGION',
      'DATABASE_URL',
      'KAFKA_BROKERS',
      'PORT',
      'VAULT_INTERNAL_TOKEN',
    ]);
  });
});
