/**
 * npm run bench -- api
 *
 * GET /v1/inquiries/{id} on the customer API (api -> vault -> PostgreSQL, real processes), load
 * from a separate autocannon process on 127.0.0.1, measured beside its baseline in the same run:
 *   1. closed-loop throughput with 8 enabled attributes revealed (vault decrypt + audit outbox
 *      write per call) vs the same endpoint for a key without `pii:reveal` (read model only),
 *      alternating rounds;
 *   2. latency of the reveal path at a fixed BENCH_API_RATE requests/s (p50, p99);
 *   3. key verification: the in-memory registry vs a primary-key lookup per request, and the
 *      api_keys table scans PostgreSQL saw during the whole load;
 *   4. CPU seconds per 1,000 reveals (api, vault, PostgreSQL), peak RSS, audit events written.
 * Results: bench/results/api-<time>.json.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AccessRepository } from '@veil/api/admin';
import { createEvent, InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { ApiKeyRegistry, type ApiKeyRecord, issueApiKey, SCOPES } from '@veil/platform/auth';
import { loadInfraEnv } from '@veil/platform/config';
import { createServiceDataSource } from '@veil/platform/database';
import { Client } from 'pg';
import { createKafkaClient, EventPublisher, toMessage } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { serviceEntry, serviceEnvironment } from '@veil/service-catalog';
import { adminQuery, expectEventually, freePort } from '@veil/testing';
import type { DataSource } from 'typeorm';

import {
  benchService,
  cpuSecondsByComponent,
  median,
  peakRssMb,
  postgresCpuByApplication,
  runBenchmark,
  runWorker,
  writeResults,
} from './lib';

const INQUIRIES = Number(process.env.BENCH_INQUIRIES ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const RATE = Number(process.env.BENCH_API_RATE ?? 200);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 15);
const run = randomBytes(3).toString('hex');
const organizationId = `org_bench_api_${run}`;
const ATTRIBUTES = [
  'nameFirst',
  'nameLast',
  'birthdate',
  'addressStreet1',
  'addressCity',
  'addressPostalCode',
  'emailAddress',
  'phoneNumber',
] as const;

interface Load {
  requestsPerSecond: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

function inquiry(seq: number): InquiryCreatedV1 {
  return {
    inquiryId: `inq_${run}_${seq}`,
    templateId: 'itmpl_bench',
    status: 'approved',
    attributes: {
      nameFirst: `Ada${seq}`,
      nameLast: `Lovelace${seq}`,
      birthdate: '1990-01-31',
      addressStreet1: `${seq} Analytical Engine Street`,
      addressCity: 'London',
      addressPostalCode: 'SW1Y 4JH',
      emailAddress: `ada.${seq}@example.com`,
      phoneNumber: '+44 20 7946 0000',
    },
  };
}

/** In-memory verification vs one indexed lookup per request (what a cache-less guard would do). */
async function keyVerificationCost(dataSource: DataSource, keyId: string) {
  const records: ApiKeyRecord[] = [];
  const secrets: string[] = [];
  for (let i = 0; i < 10_000; i++) {
    const issued = issueApiKey();
    secrets.push(issued.secret);
    records.push({
      keyId: issued.keyId,
      organizationId,
      secretHash: issued.secretHash,
      scopes: ['inquiry:read'],
      expiresAt: null,
      revokedAt: null,
      organizationActive: true,
    });
  }
  const registry = new ApiKeyRegistry({
    changedSince: async (cursor) => ({ keys: cursor === undefined ? records : [], cursor: 'bench' }),
  });
  await registry.refresh();
  const verifications = 200_000;
  let t = performance.now();
  for (let i = 0; i < verifications; i++) {
    if (!registry.verify(secrets[i % secrets.length]).ok) throw new Error('verification failed');
  }
  const registryMicros = ((performance.now() - t) * 1000) / verifications;
  const lookups = 2_000;
  t = performance.now();
  // A guard without a registry would look the key up across organizations: measured on a
  // connection row-level security does not limit (the administrator's), one indexed lookup each.
  const db = new Client({ connectionString: process.env.DATABASE_URL });
  await db.connect();
  for (let i = 0; i < lookups; i++) {
    const { rows } = await db.query(
      `select k.secret_hash, k.scopes, k.expires_at, k.revoked_at, o.status
         from api.api_keys k join api.organizations o using (organization_id) where k.key_id = $1`,
      [keyId],
    );
    if (rows.length !== 1) throw new Error(`no key ${keyId}`);
  }
  await db.end();
  const databaseMicros = ((performance.now() - t) * 1000) / lookups;
  return {
    registryMicrosPerVerify: Number(registryMicros.toFixed(2)),
    databaseLookupMicros: Number(databaseMicros.toFixed(1)),
    keysInRegistry: records.length,
  };
}

async function apiKeyScans(): Promise<number> {
  await adminQuery('select pg_stat_clear_snapshot()');
  const [row] = await adminQuery<{ n: string }>(
    `select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) as n from pg_stat_user_tables where schemaname = 'api' and relname = 'api_keys'`,
  );
  return Number(row?.n ?? 0);
}

async function main(): Promise<void> {
  loadInfraEnv();
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const vaultPort = await freePort();
  const vault = benchService('vault', {
    overrides: { PORT: String(vaultPort), MANAGEMENT_PORT: String(await freePort()), LOG_LEVEL: 'warn' },
  });
  const ingest = benchService('ingest', {
    overrides: {
      PORT: String(await freePort()),
      VAULT_URL: `http://127.0.0.1:${vaultPort}`,
      LOG_LEVEL: 'warn',
    },
  });
  const api = benchService('api', {
    overrides: {
      PORT: String(await freePort()),
      VAULT_URL: `http://127.0.0.1:${vaultPort}`,
      LOG_LEVEL: 'warn',
      API_RATE_LIMIT_PER_SECOND: '1000000', // the benchmark measures the path, not the limiter
    },
  });
  for (const p of [vault, ingest, api]) p.start();
  await Promise.all([vault.waitReady(), ingest.waitReady(), api.waitReady()]);

  // the organization and its keys, as `npm run admin` writes them
  const entry = serviceEntry('api');
  const dataSource = createServiceDataSource({
    url: serviceEnvironment(entry, process.env).DATABASE_URL!,
    schema: entry.schema,
    applicationName: 'veil-bench',
    poolSize: 2,
  });
  await dataSource.initialize();
  const access = new AccessRepository(dataSource);
  await access.createOrganization(organizationId, 'Benchmark');
  const newKey = (scopes: (typeof SCOPES)[number][]) =>
    access.createKey(dataSource, organizationId, { name: 'bench', scopes, createdBy: 'op_bench' });
  const admin = await newKey(['org:admin']);
  const revealKey = await newKey(['inquiry:read', 'pii:reveal']);
  const plainKey = await newKey(['inquiry:read']);
  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  await expectEventually(
    async () => {
      const res = await call('PUT', '/v1/organization/enabled-attributes', admin.secret, {
        attributes: ATTRIBUTES,
      });
      if (res.status !== 200) throw new Error(`enable attributes: ${res.status}`);
    },
    { timeoutMs: 10_000 },
  );

  say(`publishing ${INQUIRIES} inquiries (8 PII attributes each)...`);
  const kafka = createKafkaClient({
    clientId: 'bench-api',
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logger: new JsonLogger('bench', 'error'),
  });
  const publisher = new EventPublisher(kafka, 'bench');
  const ids = Array.from({ length: INQUIRIES }, (_, i) => inquiry(i).inquiryId);
  for (let i = 0; i < INQUIRIES; i += 1_000) {
    await publisher.send(
      InquiryCreated.topic.name,
      Array.from({ length: Math.min(1_000, INQUIRIES - i) }, (_, j) =>
        toMessage(
          InquiryCreated,
          createEvent(InquiryCreated, { organizationId, data: inquiry(i + j), producer: 'bench-upstream' }),
        ),
      ),
    );
  }
  await publisher.disconnect();
  await expectEventually(
    async () => {
      const [row] = await adminQuery<{ n: number }>(
        'select count(*)::int as n from api.inquiries where organization_id = $1',
        [organizationId],
      );
      if (row!.n < INQUIRIES) throw new Error(`${row!.n}/${INQUIRIES} in the read model`);
    },
    { timeoutMs: 300_000, intervalMs: 200 },
  );
  const sample = await call('GET', `/v1/inquiries/${ids[0]}`, revealKey.secret);
  const masked = await call('GET', `/v1/inquiries/${ids[0]}`, plainKey.secret);
  const attrs = sample.body.attributes as Record<string, unknown>;
  if (sample.status !== 200 || ATTRIBUTES.some((a) => typeof attrs[a] !== 'string'))
    throw new Error(`reveal path does not reveal: ${JSON.stringify(sample)}`);
  if (JSON.stringify(masked.body).includes('Lovelace0')) throw new Error('the no-reveal key saw plaintext');

  const idsFile = join(tmpdir(), `veil-bench-api-${run}.ids`);
  writeFileSync(idsFile, `${ids.join('\n')}\n`);
  const load = (key: string, seconds: number, rate = 0) =>
    runWorker<Load>('bench/api-load.ts', [], {
      BENCH_URL: api.baseUrl,
      BENCH_KEY: key,
      BENCH_IDS_FILE: idsFile,
      BENCH_SECONDS: String(seconds),
      BENCH_CONNECTIONS: String(CONNECTIONS),
      BENCH_RATE: String(rate),
    });

  say('warm-up...');
  const scansBefore = await apiKeyScans();
  const loadStarted = performance.now();
  const plainLoads: Load[] = [await load(plainKey.secret, 3)];
  const revealLoads: Load[] = [await load(revealKey.secret, 3)];

  const rounds: { round: number; reveal: Load; noReveal: Load }[] = [];
  const cpuPer1000Reveals: Record<string, number>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const noReveal = await load(plainKey.secret, SECONDS);
    const pgByApp = () => postgresCpuByApplication((sql) => adminQuery(sql));
    const [cpu0, pg0] = [cpuSecondsByComponent({ api: api.pid, vault: vault.pid }), await pgByApp()];
    const reveal = await load(revealKey.secret, SECONDS);
    const [cpu1, pg1] = [cpuSecondsByComponent({ api: api.pid, vault: vault.pid }), await pgByApp()];
    for (const [app, seconds] of Object.entries(pg1)) cpu1[`postgres:${app}`] = seconds - (pg0[app] ?? 0);
    cpuPer1000Reveals.push(
      Object.fromEntries(
        Object.keys(cpu1).map((k) => [
          k,
          Number((((cpu1[k]! - (cpu0[k] ?? 0)) * 1000) / reveal.requests).toFixed(3)),
        ]),
      ),
    );
    plainLoads.push(noReveal);
    revealLoads.push(reveal);
    rounds.push({ round, reveal, noReveal });
    say(
      `round ${round}: reveal ${Math.round(reveal.requestsPerSecond)} req/s (p99 ${reveal.p99Ms} ms), no reveal ${Math.round(noReveal.requestsPerSecond)} req/s (p99 ${noReveal.p99Ms} ms)`,
    );
  }

  say(`latency: reveal path at ${RATE} requests/s for ${RATE_SECONDS} s...`);
  const steady = await load(revealKey.secret, RATE_SECONDS, RATE);
  revealLoads.push(steady);
  const steadyNoReveal = await load(plainKey.secret, RATE_SECONDS, RATE);
  plainLoads.push(steadyNoReveal);
  const served = [...plainLoads, ...revealLoads];
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  const scansDuringLoad = (await apiKeyScans()) - scansBefore;
  const requestsServed = served.reduce((n, l) => n + l.requests, 0);
  const failures = served.reduce((n, l) => n + l.non2xx + l.errors + l.timeouts, 0);
  const [audit] = await adminQuery<{ n: number }>(
    `select count(*)::int as n from vault.outbox where organization_id = $1 and topic = 'audit.events'`,
    [organizationId],
  );
  const revealResponses = 1 + revealLoads.reduce((n, l) => n + l.requests - l.non2xx, 0); // + the sample

  const verification = await keyVerificationCost(dataSource, revealKey.keyId);
  const metrics = String((await vault.management('/metrics')).body);
  const batchCount = Number(/^veil_reveal_batch_requests_count\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const batchSum = Number(/^veil_reveal_batch_requests_sum\{[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? NaN);
  const rss = { apiMb: peakRssMb(api.pid!), vaultMb: peakRssMb(vault.pid!) };

  await Promise.allSettled([api.stop(), ingest.stop(), vault.stop()]);
  // Leave the shared database as we found it: the benchmark's organization is synthetic.
  for (const sql of [
    'delete from api.inquiries where organization_id = $1',
    'delete from api.outbox where organization_id = $1',
    'delete from api.api_keys where organization_id = $1',
    'delete from api.organizations where organization_id = $1',
    'delete from ingest.inquiries where organization_id = $1',
    'delete from ingest.outbox where organization_id = $1',
    'delete from vault.outbox where organization_id = $1',
    'delete from vault.data_keys where organization_id = $1',
    'delete from vault.organization_keys where organization_id = $1',
  ]) {
    await adminQuery(sql, [organizationId]);
  }
  await dataSource.destroy();

  const revealRate = median(rounds.map((r) => r.reveal.requestsPerSecond));
  const plainRate = median(rounds.map((r) => r.noReveal.requestsPerSecond));
  const summary = {
    benchmark:
      'GET /v1/inquiries/{id}: api -> vault (decrypt 8 attributes + audit outbox write) vs read model only',
    inquiries: INQUIRIES,
    revealedAttributesPerCall: ATTRIBUTES.length,
    connections: CONNECTIONS,
    secondsPerRound: SECONDS,
    rounds,
    throughput: {
      revealsPerSecond: Math.round(revealRate),
      noRevealPerSecond: Math.round(plainRate),
      ratio: Number((revealRate / plainRate).toFixed(3)),
      targets: { revealsPerSecond: 1000, ratio: 0.5 },
    },
    latency: {
      rate: RATE,
      seconds: RATE_SECONDS,
      p50Ms: steady.p50Ms,
      p99Ms: steady.p99Ms,
      maxMs: steady.maxMs,
      noReveal: { p50Ms: steadyNoReveal.p50Ms, p99Ms: steadyNoReveal.p99Ms, maxMs: steadyNoReveal.maxMs },
      targets: { p99Ms: 50 },
    },
    keyVerification: {
      ...verification,
      apiKeyTableScansDuringLoad: scansDuringLoad,
      requestsDuringLoad: requestsServed,
      loadSeconds: Number(loadSeconds.toFixed(1)),
    },
    failedRequests: failures,
    auditEvents: { written: audit!.n, revealResponses },
    revealRequestsPerVaultStatement: Number((batchSum / batchCount).toFixed(2)),
    cpuSecondsPer1000Reveals: cpuPer1000Reveals,
    peakRssMb: rss,
    at: new Date().toISOString(),
  };
  const file = writeResults('api', summary);
  say(
    [
      '',
      `throughput (median of ${ROUNDS}, ${CONNECTIONS} connections): reveal ${summary.throughput.revealsPerSecond}/s vs no reveal ${summary.throughput.noRevealPerSecond}/s = ${(summary.throughput.ratio * 100).toFixed(1)}% (targets >= 1000/s, >= 50%)`,
      `latency at ${RATE} reveals/s: p50 ${steady.p50Ms} ms, p99 ${steady.p99Ms} ms (target p99 <= 50 ms); no reveal: p50 ${steadyNoReveal.p50Ms} ms, p99 ${steadyNoReveal.p99Ms} ms`,
      `key verification: ${verification.registryMicrosPerVerify} us in memory (${verification.keysInRegistry} keys) vs ${verification.databaseLookupMicros} us per database lookup; api_keys scans during ${requestsServed} requests over ${summary.keyVerification.loadSeconds} s: ${scansDuringLoad}`,
      `failed requests: ${failures}; audit events written ${audit!.n} for ${revealResponses} reveal responses; reveal requests per vault statement: ${summary.revealRequestsPerVaultStatement}`,
      `CPU seconds per 1000 reveals (last round): ${JSON.stringify(cpuPer1000Reveals[cpuPer1000Reveals.length - 1])}`,
      `peak RSS: api ${rss.apiMb} MB, vault ${rss.vaultMb} MB`,
      `results: ${file}`,
    ].join('\n'),
  );
}

runBenchmark(main);
