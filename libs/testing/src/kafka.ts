import { randomBytes } from 'node:crypto';

import { defineTopic, type TopicSpec } from '@veil/contracts';
import { createKafkaClient, ensureTopics } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import type { IHeaders, Kafka } from 'kafkajs';

export function testKafka(clientId = 'veil-test'): Kafka {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) throw new Error('KAFKA_BROKERS is not set (integration tests load it from $VEIL_HOME/env)');
  return createKafkaClient({
    clientId,
    brokers: brokers.split(','),
    logger: new JsonLogger('test', 'error'),
  });
}

/** The broker settings (address, TLS, SASL credentials) for a child process of a test. */
export function kafkaEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [
    'KAFKA_BROKERS',
    'KAFKA_SECURITY_PROTOCOL',
    'KAFKA_SASL_MECHANISM',
    'KAFKA_SASL_USERNAME',
    'KAFKA_SASL_PASSWORD',
    'KAFKA_SSL_CA_FILE',
  ])
    if (env[name]) out[name] = env[name]!;
  return out;
}

/** A throwaway topic (and its dead-letter topic) for one test. */
export async function createTestTopic(kafka: Kafka, partitions = 3): Promise<TopicSpec> {
  const topic = defineTopic({
    name: `test.${randomBytes(6).toString('hex')}`,
    description: 'integration test topic',
    partitions,
    retentionMs: 60 * 60 * 1000,
    cleanupPolicy: 'delete',
    carriesPii: false,
    producers: ['test'],
    consumers: ['test'],
  });
  await ensureTopics(kafka, [topic, topic.deadLetter!]);
  return topic;
}

export interface TopicRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

/** Reads every record currently in `topic` (up to its high watermarks) and returns them in offset order per partition. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  options: { timeoutMs?: number; since?: Date } = {},
): Promise<TopicRecord[]> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  // `since`: only records written from that time on (a test's own, on a long-lived local stack)
  const starts = new Map<number, bigint>();
  if (options.since) {
    for (const o of await admin.fetchTopicOffsetsByTimestamp(topic, options.since.getTime())) {
      starts.set(o.partition, BigInt(o.offset));
    }
  }
  await admin.disconnect();
  const remaining = new Map(
    offsets
      .filter(
        (o) => BigInt(o.high) > (starts.get(o.partition) ?? BigInt(o.low)) && BigInt(o.high) > BigInt(o.low),
      )
      .map((o) => [o.partition, BigInt(o.high) - 1n]),
  );
  const records: TopicRecord[] = [];
  if (remaining.size === 0) return records;

  const consumer = kafka.consumer({
    groupId: `veil-test-reader-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            records.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? null,
              value: message.value?.toString('utf8') ?? null,
              headers: headersToStrings(message.headers),
            });
            const last = remaining.get(partition);
            if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
      for (const [partition, offset] of starts) {
        if (remaining.has(partition) && offset >= 0n)
          consumer.seek({ topic, partition, offset: offset.toString() });
      }
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
