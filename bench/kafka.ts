/**
 * npm run bench -- kafka
 *
 * The consumer runtime moving N 1-KiB records through consume -> validate -> inbox + batched insert
 * in one transaction -> offset commit, against a bare kafkajs consume-and-commit loop on the same
 * topic, alternating rounds in separate processes on this machine. Reports medians, the ratio, and
 * each process's peak RSS. Results: bench/results/kafka-<time>.json.
 */
import { randomBytes } from 'node:crypto';

import { createEvent } from '@veil/contracts';
import { loadInfraEnv } from '@veil/platform/config';
import { createKafkaClient, ensureTopics, EventPublisher, toMessage } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { createTestSchema } from '@veil/testing';

import { benchContract } from './kafka-contract';
import { median, runWorker, writeResults } from './lib';

interface RoundResult {
  mode: 'bare' | 'runtime';
  records: number;
  seconds: number;
  rate: number;
  maxRssMb: number;
}

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  loadInfraEnv();
  const logger = new JsonLogger('bench', 'error');
  const kafka = createKafkaClient({
    clientId: 'bench',
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logger,
  });
  const topicName = `bench.kafka.${randomBytes(4).toString('hex')}`;
  const contract = benchContract(topicName);
  await ensureTopics(kafka, [contract.topic, contract.topic.deadLetter!]);

  process.stdout.write(`producing ${RECORDS} records of ~1 KiB to ${topicName}...\n`);
  const publisher = new EventPublisher(kafka, 'bench');
  const filler = 'x'.repeat(1024 - 260); // envelope + data ~= 1 KiB
  for (let start = 0; start < RECORDS; start += 5_000) {
    const messages = [];
    for (let seq = start; seq < Math.min(RECORDS, start + 5_000); seq++) {
      messages.push(
        toMessage(
          contract,
          createEvent(contract, {
            organizationId: 'org_bench',
            producer: 'bench',
            data: { seq, body: filler },
          }),
        ),
      );
    }
    await publisher.send(topicName, messages);
  }
  await publisher.disconnect();

  const db = await createTestSchema([
    'create table bench_records (event_id text primary key, seq integer not null, body text not null)',
  ]);
  const results: RoundResult[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ['bare', 'runtime'] as const) {
        await db.dataSource.query('truncate bench_records, kafka_inbox');
        const r = await runWorker<RoundResult>('bench/kafka-worker.ts', [mode], {
          BENCH_TOPIC: topicName,
          BENCH_RECORDS: String(RECORDS),
          BENCH_SCHEMA: db.schema,
        });
        results.push(r);
        process.stdout.write(
          `round ${round} ${mode.padEnd(7)} ${Math.round(r.rate).toString().padStart(7)} records/s  peak RSS ${Math.round(r.maxRssMb)} MB\n`,
        );
      }
    }
  } finally {
    await db.drop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topicName, contract.topic.deadLetter!.name] }).catch(() => undefined);
    await admin.disconnect();
  }

  const bare = results.filter((r) => r.mode === 'bare');
  const runtime = results.filter((r) => r.mode === 'runtime');
  const summary = {
    benchmark: 'kafka consumer runtime',
    records: RECORDS,
    recordBytes: 1024,
    rounds: ROUNDS,
    bareRecordsPerSecond: Math.round(median(bare.map((r) => r.rate))),
    runtimeRecordsPerSecond: Math.round(median(runtime.map((r) => r.rate))),
    ratio: Number((median(runtime.map((r) => r.rate)) / median(bare.map((r) => r.rate))).toFixed(3)),
    barePeakRssMb: Math.round(Math.max(...bare.map((r) => r.maxRssMb))),
    runtimePeakRssMb: Math.round(Math.max(...runtime.map((r) => r.maxRssMb))),
    targets: { runtimeRecordsPerSecond: 5000, ratio: 0.4 },
    rounds_detail: results,
    at: new Date().toISOString(),
  };
  const file = writeResults('kafka', summary);
  process.stdout.write(
    `\nmedian of ${ROUNDS}: runtime ${summary.runtimeRecordsPerSecond}/s vs bare kafkajs ${summary.bareRecordsPerSecond}/s ` +
      `= ${(summary.ratio * 100).toFixed(1)}% (targets: >= 5000/s and >= 40%)\n` +
      `peak RSS: runtime ${summary.runtimePeakRssMb} MB, bare ${summary.barePeakRssMb} MB\nresults: ${file}\n`,
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
