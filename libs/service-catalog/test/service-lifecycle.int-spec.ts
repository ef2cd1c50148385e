import { provisionServiceDatabases } from '@veil/platform/database';
import { SERVICE_CATALOG, serviceDatabasePassword, serviceEntry, serviceEnvironment } from '../src';
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

  it('reports live and ready with its dependencies (vault includes KMS) and serves Prometheus metrics, on the management port only', async () => {
    for (const s of services) {
      expect(await s.get('/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
      // the main port may face customers: readiness without details, no metrics
      expect(await s.get('/health/ready')).toEqual({ status: 200, body: { status: 'ready' } });
      expect((await s.get('/metrics')).status).toBe(404);
      const ready = await s.management('/health/ready');
      const expected = [
        'audit-trail',
        'database',
        'kafka',
        ...(s.service.needsKms ? ['kms'] : []),
        ...(s.service.name === 'api' ? ['api-keys'] : []),
        // the vault is not ready before it has re-applied the redaction ledger of record
        ...(s.service.name === 'vault' ? ['redaction-ledger'] : []),
      ].sort();
      expect(Object.keys((ready.body as Ready).checks).sort()).toEqual(expected);
      const metrics = await s.management('/metrics');
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
            const ready = await s.management('/health/ready');
            expect(ready.status).toBe(503);
            expect((ready.body as Ready).checks.database?.status).toBe('down');
            expect(await s.get('/health/ready')).toEqual({ status: 503, body: { status: 'not_ready' } });
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
      'VAULT_GRANT_KEY',
      'VAULT_TOKEN_API',
      'VAULT_TOKEN_INGEST',
      'VAULT_TOKEN_RETENTION',
    ]);
  });
});

describe('outside local mode', () => {
  // What `npm start` runs, with VEIL_MODE taken away: every secret is then a well-known default.
  const localEnv = (name: string) =>
    serviceEnvironment(serviceEntry(name), { ...process.env, VEIL_MODE: 'local' });

  it('every service refuses the well-known local credentials at boot, naming each one', async () => {
    const expected: Record<string, string[]> = {
      api: [
        'AUDIT_LOG_INTERNAL_TOKEN',
        'DATABASE_URL',
        'RETENTION_INTERNAL_TOKEN',
        'VAULT_GRANT_KEY',
        'VAULT_TOKEN',
      ],
      ingest: ['DATABASE_URL', 'INGEST_INTAKE_TOKEN', 'VAULT_TOKEN'],
      vault: [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'DATABASE_URL',
        'VAULT_GRANT_KEY',
        'VAULT_TOKEN_API',
        'VAULT_TOKEN_INGEST',
        'VAULT_TOKEN_RETENTION',
      ],
      retention: ['DATABASE_URL', 'RETENTION_INTERNAL_TOKEN', 'VAULT_TOKEN'],
      dsar: ['DATABASE_URL'],
      'audit-log': ['AUDIT_LOG_INTERNAL_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'DATABASE_URL'],
    };
    expect(Object.keys(expected).sort()).toEqual(SERVICE_CATALOG.map((s) => s.name).sort());
    await Promise.all(
      SERVICE_CATALOG.map(async (s) => {
        const env: Record<string, string> = { ...localEnv(s.name), PORT: String(await freePort()) };
        delete env.VEIL_MODE;
        const proc = new ManagedProcess(
          `services/${s.name}/src/main.ts`,
          env,
          join(tmpdir(), `veil-known-secrets-${s.name}-${process.pid}.log`),
        ).start();
        const exit = await proc.waitExit(60_000);
        const named = proc
          .logs()
          .split('\n')
          .filter((l) => l.startsWith(`${s.name}: config: `) && l.includes('well-known local-stack default'))
          .map((l) => l.replace(`${s.name}: config: `, '').split(':')[0]);
        expect({ service: s.name, code: exit.code, named }).toEqual({
          service: s.name,
          code: 78,
          named: expected[s.name],
        });
        expect(proc.logs()).not.toContain('veil-local-');
      }),
    );
  });

  it('names each missing secret', async () => {
    const env: Record<string, string> = { ...localEnv('vault'), PORT: String(await freePort()) };
    for (const name of [
      'VEIL_MODE',
      'VAULT_TOKEN_API',
      'VAULT_TOKEN_INGEST',
      'VAULT_TOKEN_RETENTION',
      'VAULT_GRANT_KEY',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ])
      delete env[name];
    env.DATABASE_URL = env.DATABASE_URL!.replace(/:[^:@/]+@/, ':a-real-secret-of-its-own@');
    const proc = new ManagedProcess(
      'services/vault/src/main.ts',
      env,
      join(tmpdir(), `veil-missing-secrets-${process.pid}.log`),
    ).start();
    expect((await proc.waitExit(60_000)).code).toBe(78);
    const lines = proc
      .logs()
      .split('\n')
      .filter((l) => l.startsWith('vault: config: '));
    expect(lines).toEqual([
      'vault: config: VAULT_GRANT_KEY: required but not set',
      'vault: config: VAULT_TOKEN_API: required but not set',
      'vault: config: VAULT_TOKEN_INGEST: required but not set',
      'vault: config: VAULT_TOKEN_RETENTION: required but not set',
    ]);
  });
});
