/**
 * npm run bench -- intake
 *
 * The whole intake path on this machine (Kafka -> ingest -> vault -> PostgreSQL ->
 * inquiry.recorded, with local-kms), measured beside its baselines in the same run:
 *   1. throughput on a backlog of BENCH_RECORDS inquiries (8 PII attributes each), vs a bare
 *      kafkajs consume -> produce pass-through over the same events (alternating rounds);
 *   2. latency intake -> recorded at a steady BENCH_RATE inquiries/s (p50, p99);
 *   3. KMS calls per 10,000 inquiries at steady state, key cache on vs off;
 *   4. field encryption vs a raw node:crypto AES-256-GCM loop on the same values;
 *   5. peak RSS of ingest and vault.
 * Results: bench/results/intake-<time>.json.
 */
import { createCipheriv, randomBytes } from 'node:crypto';

import { createEvent, InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadInfraEnv, REPO_ROOT } from '@veil/platform/config';
import { encryptField, newDataKey } from '@veil/platform/crypto';
import { createKafkaClient, ensureTopics, EventPublisher, toMessage } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { defineTopic } from '@veil/contracts';
import { adminQuery, expectEventually, freePort, type ServiceProcess } from '@veil/testing';
import type { Consumer, Kafka, Message } from 'kafkajs';

import {
  benchService,
  cpuSecondsByComponent,
  median,
  peakRssMb,
  percentile,
  runBenchmark,
  runWorker,
  writeResults,
} from './lib';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 20);
const ORGS = 10;
const run = randomBytes(3).toString('hex');
const orgs = Array.from({ length: ORGS }, (_, i) => `org_bench_${run}_${i}`);

function inquiry(seq: number): { organizationId: string; data: InquiryCreatedV1 } {
  return {
    organizationId: orgs[seq % ORGS]!,
    data: {
      inquiryId: `inq_${run}_${seq}`,
      templateId: 'itmpl_bench',
      status: 'completed',
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
    },
  };
}

function messages(from: number, count: number): Message[] {
  return Array.from({ length: count }, (_, i) => {
    const { organizationId, data } = inquiry(from + i);
    return toMessage(
      InquiryCreated,
      createEvent(InquiryCreated, { organizationId, data, producer: 'bench-upstream' }),
    );
  });
}

/** Follows inquiry.recorded and remembers when each of this run's inquiries arrived. */
class RecordedWatcher {
  readonly arrivals = new Map<string, number>();
  private consumer?: Consumer;

  constructor(private readonly kafka: Kafka) {}

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `bench-watch-${run}-${randomBytes(3).toString('hex')}`,
      maxWaitTimeInMs: 50,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: ['inquiry.recorded'], fromBeginning: false });
    const joined = new Promise<void>((resolve) =>
      this.consumer!.on(this.consumer!.events.GROUP_JOIN, () => resolve()),
    );
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const event = JSON.parse(message.value!.toString()) as { data: { inquiryId: string } };
        if (event.data.inquiryId.startsWith(`inq_${run}_`))
          this.arrivals.set(event.data.inquiryId, Date.now());
      },
    });
    await joined;
  }

  async waitFor(count: number, timeoutMs: number): Promise<void> {
    await expectEventually(
      () => {
        if (this.arrivals.size < count) throw new Error(`${this.arrivals.size}/${count} recorded`);
      },
      { timeoutMs, intervalMs: 20 },
    );
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

function kafkaPid(): number | undefined {
  try {
    return Number(
      readFileSync(
        join(process.env.VEIL_HOME ?? join(REPO_ROOT, '.veil'), 'run', 'kafka.pid'),
        'utf8',
      ).trim(),
    );
  } catch {
    return undefined; // external Kafka
  }
}

async function kmsCalls(vault: ServiceProcess): Promise<number> {
  const { body } = await vault.management('/metrics');
  return Number(/^veil_kms_calls\{[^}]*\} (\d+)/m.exec(String(body))?.[1] ?? NaN);
}

function fieldEncryptionRound(values: string[], repeat: number): { veil: number; raw: number } {
  const key = newDataKey();
  let t = performance.now();
  for (let r = 0; r < repeat; r++) {
    for (let i = 0; i < values.length; i++) {
      encryptField(key, values[i]!, {
        organizationId: 'org_bench',
        inquiryId: `inq_${r}`,
        attribute: 'nameFirst',
        dataKeyVersion: 1,
      });
    }
  }
  const veil = (values.length * repeat) / ((performance.now() - t) / 1000);
  t = performance.now();
  for (let r = 0; r < repeat; r++) {
    for (let i = 0; i < values.length; i++) {
      const cipher = createCipheriv('aes-256-gcm', key, randomBytes(12));
      cipher.update(values[i]!, 'utf8');
      cipher.final();
      cipher.getAuthTag();
    }
  }
  const raw = (values.length * repeat) / ((performance.now() - t) / 1000);
  return { veil, raw };
}

async function main(): Promise<void> {
  loadInfraEnv();
  const kafka = createKafkaClient({
    clientId: 'bench-intake',
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logger: new JsonLogger('bench', 'error'),
  });
  const publisher = new EventPublisher(kafka, 'bench');
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // vault + ingest as real processes, like npm start runs them
  const vaultPort = await freePort();
  const vaultEnv = { PORT: String(vaultPort), MANAGEMENT_PORT: String(await freePort()), LOG_LEVEL: 'warn' };
  let vault = benchService('vault', { overrides: vaultEnv });
  const ingest = benchService('ingest', {
    overrides: {
      PORT: String(await freePort()),
      VAULT_URL: `http://127.0.0.1:${vaultPort}`,
      LOG_LEVEL: 'warn',
    },
  });
  vault.start();
  ingest.start();
  await Promise.all([vault.waitReady(), ingest.waitReady()]);

  const watcher = new RecordedWatcher(kafka);
  await watcher.start();
  // warm-up: every organization gets its keys (KMS) before anything is measured
  await publisher.send(InquiryCreated.topic.name, messages(10_000_000, ORGS * 20));
  await watcher.waitFor(ORGS * 20, 120_000);

  // 1. throughput on a backlog, vs pass-through over the same events
  const sourceTopic = defineTopic({
    ...InquiryCreated.topic,
    name: `bench.intake.source.${run}`,
    retentionMs: 3_600_000,
  });
  const sinkTopic = defineTopic({
    ...InquiryCreated.topic,
    name: `bench.intake.sink.${run}`,
    retentionMs: 3_600_000,
  });
  await ensureTopics(kafka, [sourceTopic, sinkTopic]);
  const rounds: { round: number; veil: number; passthrough: number; passthroughRssMb: number }[] = [];
  const cpuPer1000: Record<string, number>[] = [];
  let next = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const from = next;
    next += RECORDS;
    await ingest.stop();
    say(`round ${round}: producing ${RECORDS} inquiries...`);
    for (let i = 0; i < RECORDS; i += 2_000) {
      const batch = messages(from + i, Math.min(2_000, RECORDS - i));
      await publisher.send(InquiryCreated.topic.name, batch);
      if (round === 1) await publisher.send(sourceTopic.name, batch);
    }
    const before = watcher.arrivals.size;
    ingest.start();
    await ingest.waitReady();
    const t0 = performance.now();
    const cpu0 = cpuSecondsByComponent({ ingest: ingest.pid, vault: vault.pid, kafka: kafkaPid() });
    await watcher.waitFor(before + RECORDS, 600_000);
    const veil = RECORDS / ((performance.now() - t0) / 1000);
    const cpu1 = cpuSecondsByComponent({ ingest: ingest.pid, vault: vault.pid, kafka: kafkaPid() });
    cpuPer1000.push(
      Object.fromEntries(
        Object.keys(cpu1).map((k) => [
          k,
          Number((((cpu1[k]! - (cpu0[k] ?? 0)) * 1000) / RECORDS).toFixed(3)),
        ]),
      ),
    );

    const base = await runWorker<{ rate: number; maxRssMb: number }>('bench/passthrough-worker.ts', [], {
      BENCH_SOURCE: sourceTopic.name,
      BENCH_SINK: sinkTopic.name,
      BENCH_RECORDS: String(RECORDS),
    });
    rounds.push({ round, veil, passthrough: base.rate, passthroughRssMb: base.maxRssMb });
    say(
      `round ${round}: veil ${Math.round(veil)} inquiries/s, pass-through ${Math.round(base.rate)} records/s`,
    );
  }

  // 2. latency at a steady rate
  say(`latency: ${RATE} inquiries/s for ${LATENCY_SECONDS} s...`);
  const latencyFrom = next;
  const total = RATE * LATENCY_SECONDS;
  next += total;
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
  const sentAt = new Map<string, number>();
  const started = Date.now();
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * RATE) + perTick);
    if (due > sent) {
      const now = Date.now();
      for (let i = sent; i < due; i++) sentAt.set(inquiry(latencyFrom + i).data.inquiryId, now);
      await publisher.send(InquiryCreated.topic.name, messages(latencyFrom + sent, due - sent));
      sent = due;
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await watcher.waitFor(ORGS * 20 + ROUNDS * RECORDS + total, 300_000);
  const latencies = [...sentAt].map(([id, at]) => watcher.arrivals.get(id)! - at);

  // 3. KMS calls per 10,000 inquiries at steady state: cache on (what ran above) vs off
  const kmsProbe = async (): Promise<number> => {
    const before = await kmsCalls(vault);
    const from = next;
    next += 10_000;
    const expected = watcher.arrivals.size + 10_000;
    for (let i = 0; i < 10_000; i += 2_000)
      await publisher.send(InquiryCreated.topic.name, messages(from + i, 2_000));
    await watcher.waitFor(expected, 300_000);
    return (await kmsCalls(vault)) - before;
  };
  const kmsCachedPer10k = await kmsProbe();
  const rss = { ingestMb: peakRssMb(ingest.pid!), vaultMb: peakRssMb(vault.pid!) };
  await vault.stop();
  vault = benchService('vault', { overrides: { ...vaultEnv, VAULT_KEY_CACHE_MAX_USES: '1' } });
  vault.start();
  await vault.waitReady();
  const kmsUncachedPer10k = await kmsProbe();

  // 4. field encryption vs raw AES-256-GCM, same values, alternating rounds
  const values = Array.from({ length: 1_000 }, (_, i) =>
    Object.values(inquiry(i).data.attributes),
  ).flat() as string[];
  const enc = Array.from({ length: 5 }, () => fieldEncryptionRound(values, 25));

  await watcher.stop();
  await Promise.allSettled([ingest.stop(), vault.stop()]);
  // Leave the shared database as we found it: the benchmark's organizations are synthetic.
  for (const sql of [
    'delete from ingest.inquiries where organization_id = any($1::text[])',
    'delete from ingest.outbox where organization_id = any($1::text[])',
    'delete from vault.data_keys where organization_id = any($1::text[])',
    'delete from vault.organization_keys where organization_id = any($1::text[])',
  ]) {
    await adminQuery(sql, [orgs]);
  }
  await publisher.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [sourceTopic.name, sinkTopic.name] }).catch(() => undefined);
  await admin.disconnect();

  const veilRate = median(rounds.map((r) => r.veil));
  const passRate = median(rounds.map((r) => r.passthrough));
  const summary = {
    benchmark: 'intake path: inquiry.created -> ingest -> vault -> PostgreSQL -> inquiry.recorded',
    inquiries: RECORDS,
    piiAttributesPerInquiry: 8,
    organizations: ORGS,
    rounds,
    throughput: {
      veilInquiriesPerSecond: Math.round(veilRate),
      passthroughRecordsPerSecond: Math.round(passRate),
      ratio: Number((veilRate / passRate).toFixed(3)),
      targets: { veilInquiriesPerSecond: 2000, ratio: 0.25 },
    },
    latency: {
      rate: RATE,
      samples: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      targets: { p99Ms: 500 },
    },
    cpuSecondsPer1000Inquiries: cpuPer1000,
    kmsCallsPer10kInquiries: { cacheOn: kmsCachedPer10k, cacheOff: kmsUncachedPer10k, target: 1 },
    fieldEncryption: {
      veilFieldsPerSecond: Math.round(median(enc.map((e) => e.veil))),
      rawAesGcmPerSecond: Math.round(median(enc.map((e) => e.raw))),
      ratio: Number((median(enc.map((e) => e.veil)) / median(enc.map((e) => e.raw))).toFixed(3)),
      target: 0.5,
    },
    peakRssMb: { ...rss, passthroughMb: Math.round(Math.max(...rounds.map((r) => r.passthroughRssMb))) },
    at: new Date().toISOString(),
  };
  const file = writeResults('intake', summary);
  say(
    [
      '',
      `throughput (median of ${ROUNDS}): veil ${summary.throughput.veilInquiriesPerSecond} inquiries/s vs pass-through ${summary.throughput.passthroughRecordsPerSecond}/s = ${(summary.throughput.ratio * 100).toFixed(1)}% (targets >= 2000/s, >= 25%)`,
      `latency at ${RATE}/s: p50 ${summary.latency.p50Ms} ms, p99 ${summary.latency.p99Ms} ms (target p99 <= 500 ms)`,
      `KMS calls per 10,000 inquiries: ${kmsCachedPer10k} with the key cache, ${kmsUncachedPer10k} without (target <= 1)`,
      `field encryption: ${summary.fieldEncryption.veilFieldsPerSecond}/s vs raw AES-256-GCM ${summary.fieldEncryption.rawAesGcmPerSecond}/s = ${(summary.fieldEncryption.ratio * 100).toFixed(1)}% (target >= 50%)`,
      `CPU seconds per 1000 inquiries (last round): ${JSON.stringify(cpuPer1000[cpuPer1000.length - 1])}`,
      `peak RSS: ingest ${rss.ingestMb} MB, vault ${rss.vaultMb} MB, pass-through ${summary.peakRssMb.passthroughMb} MB`,
      `results: ${file}`,
    ].join('\n'),
  );
}

runBenchmark(main);
