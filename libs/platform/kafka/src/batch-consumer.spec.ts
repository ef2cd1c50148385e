import type { LoggerService } from '@nestjs/common';
import { createEvent, encodeEvent } from '@veil/contracts';
import type {
  ConsumerRunConfig,
  EachBatchHandler,
  EachBatchPayload,
  Kafka,
  KafkaMessage,
  Message,
  Offsets,
} from 'kafkajs';
import Decoder from 'kafkajs/src/protocol/decoder';
import decodeMessages from 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages';
import type { DataSource, EntityManager } from 'typeorm';

import {
  CODEC_TYPES,
  compressWith,
  encodeRecords,
  fetchedRecordSet,
  recordBatch,
} from '../test/fixtures/compressed';
import { testContract, topicNamed, type TestData } from '../test/fixtures/test-event';
import { BatchConsumer, type ConsumedEvent, DLQ_HEADERS } from './batch-consumer';
import { crc32c, registerCompressionCodecs } from './compression';
import type { EventPublisher } from './publisher';

const LIMIT = 64 * 1024;
const contract = testContract(topicNamed('test.bombs'));
const deadLetterTopic = contract.topic.deadLetter!.name;

function eventValue(seq: number): Buffer {
  return encodeEvent(
    createEvent(contract, {
      organizationId: 'org_test',
      producer: 'test',
      data: { seq, key: `k${seq}`, behaviour: 'apply' },
    }),
  );
}

/** A fetched record set as kafkajs decodes it: a zstd bomb of `bombRecords` records, then one event. */
async function fetchedMessages(firstOffset: bigint, bombRecords: number): Promise<KafkaMessage[]> {
  const valueBytes = Math.ceil((2 * LIMIT) / bombRecords); // twice the cap in all
  const bomb = encodeRecords(
    Array.from({ length: bombRecords }, () => ({ key: null, value: Buffer.alloc(valueBytes, 'x') })),
  );
  const batches = [
    recordBatch({
      firstOffset,
      codec: CODEC_TYPES.zstd,
      recordCount: bombRecords,
      records: compressWith('zstd', bomb),
      crc32c,
    }),
    recordBatch({
      firstOffset: firstOffset + BigInt(bombRecords),
      codec: CODEC_TYPES.gzip,
      recordCount: 1,
      records: compressWith('gzip', encodeRecords([{ key: Buffer.from('k1'), value: eventValue(1) }])),
      crc32c,
    }),
  ];
  return (await decodeMessages(new Decoder(fetchedRecordSet(batches)))) as KafkaMessage[];
}

/** A BatchConsumer on stand-ins for kafkajs, the database and the publisher; `deliver` runs one batch. */
async function consumerHarness() {
  let eachBatch: EachBatchHandler | undefined;
  const fakeConsumer = {
    events: { CRASH: 'consumer.crash', GROUP_JOIN: 'consumer.group_join' },
    on: () => undefined,
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async (config: ConsumerRunConfig) => {
      eachBatch = config.eachBatch;
    },
    disconnect: async () => undefined,
  };
  const sent: { topic: string; messages: Message[] }[] = [];
  const handled: ConsumedEvent<TestData>[] = [];
  const consumer = new BatchConsumer<TestData>({
    kafka: { consumer: () => fakeConsumer } as unknown as Kafka,
    dataSource: {
      transaction: async (work: (tx: EntityManager) => Promise<void>) => work({} as EntityManager),
    } as unknown as DataSource,
    publisher: {
      send: async (topic: string, messages: Message[]) => void sent.push({ topic, messages }),
    } as unknown as EventPublisher,
    logger: { log: () => undefined, warn: () => undefined, error: () => undefined } as LoggerService,
    groupId: 'test.bombs-group',
    contracts: [contract],
    handler: { handle: async (events) => void handled.push(...events) },
    isTransientDependencyError: () => false,
    inbox: false,
  });
  await consumer.start();

  const commits: string[] = [];
  const deliver = async (partition: number, messages: KafkaMessage[]) => {
    const payload = {
      batch: { topic: contract.topic.name, partition, messages },
      resolveOffset: () => undefined,
      commitOffsetsIfNecessary: async (offsets?: Offsets) =>
        void commits.push(offsets!.topics[0]!.partitions[0]!.offset),
      heartbeat: async () => undefined,
      pause: () => () => undefined,
      isRunning: () => true,
      isStale: () => false,
    } as unknown as EachBatchPayload;
    await eachBatch!(payload);
  };
  return { consumer, deliver, sent, handled, commits };
}

function header(message: Message, name: string): string | undefined {
  const value = message.headers?.[name];
  return value === undefined ? undefined : String(value);
}

describe('BatchConsumer and a compressed batch over the decompression cap', () => {
  beforeAll(() => registerCompressionCodecs(LIMIT));

  it('dead-letters every offset of the batch with payload_too_large and provenance, then goes on', async () => {
    const { consumer, deliver, sent, handled, commits } = await consumerHarness();
    const messages = await fetchedMessages(40n, 3);

    await deliver(2, messages);

    expect(sent).toHaveLength(1);
    expect(sent[0]!.topic).toBe(deadLetterTopic);
    const dead = sent[0]!.messages;
    expect(dead.map((m) => header(m, DLQ_HEADERS.originalOffset))).toEqual(['40', '41', '42']);
    for (const record of dead) {
      expect(record.key).toBeNull();
      expect(record.value).toBeNull();
      expect(header(record, DLQ_HEADERS.errorCode)).toBe('payload_too_large');
      expect(header(record, DLQ_HEADERS.originalTopic)).toBe(contract.topic.name);
      expect(header(record, DLQ_HEADERS.originalPartition)).toBe('2');
      expect(header(record, DLQ_HEADERS.consumerGroup)).toBe('test.bombs-group');
      expect(header(record, DLQ_HEADERS.errorDetail)).toMatch(/zstd.*65536-byte decompression cap/);
    }
    // Past the bomb first, then past the event after it.
    expect(commits).toEqual(['43', '44']);
    expect(handled.map((e) => [e.offset, e.event.data.seq])).toEqual([['43', 1]]);
    await consumer.stop();
  });

  it('sends a large refused batch in runs, committing after each', async () => {
    const { consumer, deliver, sent, handled, commits } = await consumerHarness();
    const messages = await fetchedMessages(0n, 1200);

    await deliver(0, messages);

    expect(sent.map((s) => s.messages.length)).toEqual([500, 500, 200]);
    expect(sent.flatMap((s) => s.messages.map((m) => header(m, DLQ_HEADERS.originalOffset)))).toEqual(
      Array.from({ length: 1200 }, (_, i) => String(i)),
    );
    expect(commits).toEqual(['500', '1000', '1200', '1201']);
    expect(handled).toHaveLength(1);
    await consumer.stop();
  });
});
