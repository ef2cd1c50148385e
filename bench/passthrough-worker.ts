/**
 * Baseline for the intake benchmark: a bare kafkajs consume -> produce pass-through (the ceiling
 * any pipeline on this machine can reach). Consumes BENCH_SOURCE from the beginning, produces every
 * record unchanged to BENCH_SINK (acks=-1), commits, and stops after BENCH_RECORDS.
 */
import { randomBytes } from 'node:crypto';

import { createKafkaClient } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';

async function main(): Promise<void> {
  const env = process.env;
  const total = Number(env.BENCH_RECORDS);
  const kafka = createKafkaClient({
    clientId: 'bench-passthrough',
    brokers: env.KAFKA_BROKERS!.split(','),
    logger: new JsonLogger('bench', 'error'),
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const consumer = kafka.consumer({
    groupId: `bench-passthrough-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [env.BENCH_SOURCE!], fromBeginning: true });
  let forwarded = 0;
  let started = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
        started ||= performance.now();
        const last = batch.messages[batch.messages.length - 1];
        if (!last) return;
        await producer.send({
          topic: env.BENCH_SINK!,
          acks: -1,
          messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
        });
        resolveOffset(last.offset);
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }],
            },
          ],
        });
        forwarded += batch.messages.length;
        if (forwarded >= total) resolve();
      },
    });
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${JSON.stringify({ records: total, seconds, rate: total / seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
  await consumer.disconnect();
  await producer.disconnect();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
