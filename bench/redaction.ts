/**
 * npm run bench -- redaction
 *
 * Redaction end to end (vault, ingest, api and retention as real processes), beside its baseline
 * in the same run:
 *   1. throughput: BENCH_REDACTIONS existing inquiries (100,000) made due at once by a retention
 *      policy change, until every one is complete (requested by retention -> keys and ciphertexts
 *      deleted and ledgered by the vault -> pii.redacted applied and acknowledged by ingest and the
 *      api), vs deleting the same rows (copies of the vault's tables) by plain SQL, 1,000 at a time;
 *   2. latency of one redaction through the API (DELETE -> GET /v1/redactions/{id} completed),
 *      BENCH_LATENCY_SAMPLES of them, with a background intake of BENCH_INTAKE_RATE inquiries/s.
 * Results: bench/results/redaction-<time>.json.
 */
import { randomBytes } from 'node:crypto';

import { AccessRepository } from '@veil/api/admin';
import { createEvent, InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { loadInfraEnv } from '@veil/platform/config';
import { createServiceDataSource } from '@veil/platform/database';
import { createKafkaClient, EventPublisher, toMessage } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { serviceEntry, serviceEnvironment } from '@veil/service-catalog';
import { adminQuery, expectEventually, freePort } from '@veil/testing';

import { benchService, cpuSecondsByComponent, median, percentile, runBenchmark, writeResults } from './lib';

const REDACTIONS = Number(process.env.BENCH_REDACTIONS ?? 100_000);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
const INTAKE_RATE = Number(process.env.BENCH_INTAKE_RATE ?? 200);
const DAY_MS = 24 * 60 * 60 * 1000;
const run = randomBytes(3).toString('hex');
const organizationId = `org_bench_red_${run}`;

function inquiry(kind: string, seq: number): InquiryCreatedV1 {
  return {
    inquiryId: `inq_${run}_${kind}${seq}`,
    referenceId: `ref-${run}-${kind}${seq}`,
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

async function count(sql: string): Promise<number> {
  const [row] = await adminQuery<{ n: number }>(sql, [organizationId]);
  return row!.n;
}

async function main(): Promise<void> {
  loadInfraEnv();
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const vaultPort = await freePort();
  const retentionPort = await freePort();
  const quiet = { LOG_LEVEL: 'warn', MANAGEMENT_PORT: '0' };
  const vault = benchService('vault', { overrides: { ...quiet, PORT: String(vaultPort) } });
  const vaultUrl = `http://127.0.0.1:${vaultPort}`;
  const ingest = benchService('ingest', {
    overrides: { ...quiet, PORT: String(await freePort()), VAULT_URL: vaultUrl },
  });
  // retention's clock two days ahead (test builds only): a one-day policy makes everything due at once
  const retention = benchService('retention', {
    overrides: {
      ...quiet,
      PORT: String(retentionPort),
      VAULT_URL: vaultUrl,
      NODE_ENV: 'test',
      RETENTION_TEST_CLOCK_OFFSET_MS: String(2 * DAY_MS),
      RETENTION_TICK_MS: '200',
    },
  });
  const api = benchService('api', {
    overrides: {
      ...quiet,
      PORT: String(await freePort()),
      VAULT_URL: vaultUrl,
      RETENTION_URL: `http://127.0.0.1:${retentionPort}`,
      API_RATE_LIMIT_PER_SECOND: '1000000',
    },
  });
  const services = [vault, ingest, retention, api];
  for (const p of services) p.start();
  await Promise.all(services.map((p) => p.waitReady()));

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
  const key = await access.createKey(dataSource, organizationId, {
    name: 'bench',
    scopes: ['inquiry:read', 'inquiry:redact', 'retention:manage'],
    createdBy: 'op_bench',
  });
  await dataSource.destroy();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key.secret}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  await expectEventually(async () => {
    if ((await call('GET', '/v1/retention-policy')).status !== 200) throw new Error('key not picked up yet');
  });

  const kafka = createKafkaClient({
    clientId: 'bench-redaction',
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logger: new JsonLogger('bench', 'error'),
  });
  const publisher = new EventPublisher(kafka, 'bench');
  const publish = async (kind: string, from: number, n: number) => {
    for (let i = 0; i < n; i += 1_000)
      await publisher.send(
        InquiryCreated.topic.name,
        Array.from({ length: Math.min(1_000, n - i) }, (_, j) =>
          toMessage(
            InquiryCreated,
            createEvent(InquiryCreated, {
              organizationId,
              data: inquiry(kind, from + i + j),
              producer: 'bench-upstream',
            }),
          ),
        ),
      );
  };

  say(
    `publishing ${REDACTIONS} inquiries (8 PII attributes each) and waiting for every service to hold them...`,
  );
  await publish('r', 0, REDACTIONS);
  await expectEventually(
    async () => {
      const planned = await count(
        'select count(*)::int as n from retention.planned_inquiries where organization_id = $1',
      );
      const read = await count('select count(*)::int as n from api.inquiries where organization_id = $1');
      if (planned < REDACTIONS || read < REDACTIONS)
        throw new Error(`${planned} planned, ${read} in the read model`);
    },
    { timeoutMs: 900_000, intervalMs: 500 },
  );

  // Baseline: the same rows deleted by plain SQL, from copies of the vault's tables.
  say('baseline: deleting copies of the same rows by plain SQL, 1,000 inquiries per statement...');
  await adminQuery('drop schema if exists bench_redaction cascade');
  await adminQuery('create schema bench_redaction');
  let sqlSeconds: number;
  try {
    for (const table of ['data_keys', 'encrypted_fields', 'blind_indexes']) {
      await adminQuery(
        `create table bench_redaction.${table} as select * from vault.${table} where organization_id = $1`,
        [organizationId],
      );
      await adminQuery(`create index on bench_redaction.${table} (organization_id, inquiry_id)`);
    }
    const ids = Array.from({ length: REDACTIONS }, (_, i) => inquiry('r', i).inquiryId);
    const sqlStarted = performance.now();
    for (let i = 0; i < ids.length; i += 1_000) {
      const chunk = ids.slice(i, i + 1_000);
      for (const table of ['blind_indexes', 'encrypted_fields', 'data_keys'])
        await adminQuery(
          `delete from bench_redaction.${table} where organization_id = $1 and inquiry_id = any($2::text[])`,
          [organizationId, chunk],
        );
    }
    sqlSeconds = (performance.now() - sqlStarted) / 1000;
  } finally {
    await adminQuery('drop schema if exists bench_redaction cascade');
  }

  // 1. throughput: one policy change makes every inquiry due
  say(`policy change: ${REDACTIONS} inquiries due at once...`);
  const cpuBefore = cpuSecondsByComponent({
    vault: vault.pid,
    ingest: ingest.pid,
    api: api.pid,
    retention: retention.pid,
  });
  const started = performance.now();
  const put = await call('PUT', '/v1/retention-policy', { rules: [{ after: 'created', days: 1 }] });
  if (put.status !== 200) throw new Error(`policy: ${put.status} ${JSON.stringify(put.body)}`);
  const progress: { seconds: number; completed: number }[] = [];
  await expectEventually(
    async () => {
      const completed = await count(
        `select count(*)::int as n from vault.redactions where organization_id = $1 and reason = 'retention_policy' and completed_at is not null`,
      );
      progress.push({ seconds: Number(((performance.now() - started) / 1000).toFixed(1)), completed });
      if (completed < REDACTIONS) throw new Error(`${completed}/${REDACTIONS} complete`);
    },
    { timeoutMs: 1_800_000, intervalMs: 1_000 },
  );
  const pipelineSeconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuSecondsByComponent({
    vault: vault.pid,
    ingest: ingest.pid,
    api: api.pid,
    retention: retention.pid,
  });
  const left = await count(`select count(*)::int as n from vault.data_keys d where organization_id = $1`);
  const readModel = await count(
    'select count(*)::int as n from api.inquiries where organization_id = $1 and redacted_at is not null',
  );
  const ingestRecords = await count(
    'select count(*)::int as n from ingest.inquiries where organization_id = $1 and redacted_at is not null',
  );
  if (left !== 0 || readModel < REDACTIONS || ingestRecords < REDACTIONS)
    throw new Error(`incomplete: ${left} keys left, ${readModel} read model, ${ingestRecords} ingest`);

  // 2. latency of single redactions through the API, with a background intake
  say(`latency: ${LATENCY_SAMPLES} single redactions through the API, intake at ${INTAKE_RATE}/s...`);
  await publish('l', 0, LATENCY_SAMPLES);
  await expectEventually(
    async () => {
      const n = await count(
        `select count(*)::int as n from api.inquiries where organization_id = $1 and inquiry_id like 'inq_${run}_l%'`,
      );
      if (n < LATENCY_SAMPLES) throw new Error(`${n}/${LATENCY_SAMPLES}`);
    },
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  let intake = true;
  let sent = 0;
  const background = (async () => {
    const t0 = performance.now();
    while (intake) {
      const due = Math.floor(((performance.now() - t0) / 1000) * INTAKE_RATE);
      if (due > sent) {
        await publish('b', sent, due - sent);
        sent = due;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    const res = await call('DELETE', `/v1/inquiries/${inquiry('l', i).inquiryId}`);
    if (res.status !== 202) throw new Error(`DELETE: ${res.status}`);
    for (;;) {
      const status = await call('GET', `/v1/redactions/${res.body.id as string}`);
      if (status.body.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    latencies.push(performance.now() - t);
  }
  intake = false;
  await background;
  await publisher.disconnect();

  const rate = REDACTIONS / pipelineSeconds;
  const sqlRate = REDACTIONS / sqlSeconds;
  const cpu = Object.fromEntries(
    Object.keys(cpuAfter).map((k) => [
      k,
      Number(((cpuAfter[k]! - (cpuBefore[k] ?? 0)) * (1000 / REDACTIONS)).toFixed(3)),
    ]),
  );
  const summary = {
    redactions: REDACTIONS,
    endToEnd: { seconds: Number(pipelineSeconds.toFixed(1)), perSecond: Math.round(rate), target: 2_000 },
    plainSql: { seconds: Number(sqlSeconds.toFixed(2)), perSecond: Math.round(sqlRate) },
    ratioToPlainSql: Number((rate / sqlRate).toFixed(3)),
    cpuSecondsPer1000: cpu,
    progress: progress.filter((_, i) => i % 5 === 0 || i === progress.length - 1),
    latency: {
      samples: latencies.length,
      backgroundIntakePerSecond: INTAKE_RATE,
      backgroundIntakeSent: sent,
      p50Ms: Math.round(median(latencies)),
      p99Ms: Math.round(percentile(latencies, 99)),
      maxMs: Math.round(Math.max(...latencies)),
      targetP99Ms: 1_000,
    },
  };
  say(JSON.stringify(summary, null, 2));
  say(`results: ${writeResults('redaction', summary)}`);
  await Promise.allSettled(services.map((p) => p.stop()));
}

runBenchmark(main);
