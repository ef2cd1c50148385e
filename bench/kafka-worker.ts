/**
 * One measured consumer process of the Kafka benchmark (bench/kafka.ts starts it).
 *   bare:    kafkajs eachBatch, commit offsets after each batch — the ceiling.
 *   runtime: Veil's BatchConsumer — decode + validate, inbox, batched insert, transaction, commit.
 * Prints one JSON line: { mode, records, seconds, rate, maxRssMb }.
 */
import { randomBytes } from 'node:crypto';

import { createServiceDataSource, isTransientDatabaseError } from '@veil/platform/database';
import { BatchConsumer, createKafkaClient, EventPublisher, type BatchHandler } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';

import { benchContract, type BenchData } from './kafka-contract';

const env = process.env;
const mode = process.argv[2] as 'bare' | 'runtime';
const total = Number(env.BENCH_RECORDS);
const logger = new JsonLogger('bench', 'error');
const kafka = createKafkaClient({
  clientId: `bench-${mode}`,
  brokers: env.KAFKA_BROKERS!.split(','),
  logger,
});
const groupId = `bench-${mode}-${randomBytes(4).toString('hex')}`;

function report(seconds: number): void {
  process.stdout.write(
    `${JSON.stringify({ mode, records: total, seconds, rate: total / seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

async function bare(): Promise<void> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [env.BENCH_TOPIC!], fromBeginning: true });
  let seen = 0;
  let started = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        started ||= performance.now();
        const last = batch.messages[batch.messages.length - 1];
        if (!last) return;
        resolveOffset(last.offset);
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }],
            },
          ],
        });
        seen += batch.messages.length;
        if (seen >= total) resolve();
      },
    });
  });
  report((performance.now() - started) / 1000);
  await consumer.disconnect();
}

async function runtime(): Promise<void> {
  const dataSource = createServiceDataSource({
    url: env.DATABASE_URL!,
    schema: env.BENCH_SCHEMA!,
    applicationName: 'veil-bench',
  });
  await dataSource.initialize();
  let seen = 0;
  let started = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const handler: BatchHandler<BenchData> = {
    async handle(events, tx) {
      started ||= performance.now();
      await tx.query(
        `insert into bench_records (event_id, seq, body) select * from unnest($1::text[], $2::int[], $3::text[])`,
        [
          events.map((e) => e.event.eventId),
          events.map((e) => e.event.data.seq),
          events.map((e) => e.event.data.body),
        ],
      );
      seen += events.length;
      if (seen >= total) setImmediate(done);
    },
  };
  const consumer = new BatchConsumer<BenchData>({
    kafka,
    dataSource,
    publisher: new EventPublisher(kafka, 'bench'),
    logger,
    groupId,
    contracts: [benchContract(env.BENCH_TOPIC!)],
    handler,
    isTransientDependencyError: isTransientDatabaseError,
    chunkSize: Number(env.BENCH_CHUNK ?? 2000),
    partitionsConsumedConcurrently: Number(env.BENCH_CONCURRENCY ?? 3),
    maxBytesPerPartition: Number(env.BENCH_FETCH_BYTES ?? 2 * 1024 * 1024),
  });
  await consumer.start();
  await finished;
  report((performance.now() - started) / 1000);
  await consumer.stop();
  await dataSource.destroy();
}

(mode === 'bare' ? bare() : runtime()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
