import { AuditEvent, createEvent, encodeEvent, type EventContract, type TopicSpec } from '@veil/contracts';
import {
  createServiceDataSource,
  isTransientDatabaseError,
  provisionServiceDatabases,
  serviceDatabaseUrl,
} from '@veil/platform/database';
import { JsonLogger } from '@veil/platform/logging';
import {
  adminDatabaseUrl,
  createTestSchema,
  createTestTopic,
  DeliveryChecker,
  expectEventually,
  ManagedProcess,
  logDirectory,
  PrivatePostgres,
  readTopic,
  kafkaEnvironment,
  testKafka,
  testOrganizationId,
  type TestSchema,
} from '@veil/testing';
import type { Kafka, Message } from 'kafkajs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';

import { BatchConsumer, type ConsumerMetrics, DLQ_HEADERS } from '../src/batch-consumer';
import { MESSAGING_MIGRATIONS } from '../src/migrations';
import { OutboxRelay, OutboxWriter } from '../src/outbox';
import { EventPublisher, toMessage } from '../src/publisher';
import { runMigrations } from '@veil/platform/database';
import { EFFECTS_TABLE_SQL, EffectsHandler, testContract, type TestData } from './fixtures/test-event';

jest.setTimeout(180_000);

const logger = new JsonLogger('test', 'error');
const fastBackoff = { initialMs: 50, maxMs: 500, attemptsPerRound: 4, cooldownMs: 500 };

function countingMetrics(): ConsumerMetrics & { retries: number; deadLetters: string[] } {
  const m = {
    retries: 0,
    deadLetters: [] as string[],
    processed: () => undefined,
    deadLettered: (_g: string, _t: string, code: string) => void m.deadLetters.push(code),
    retried: () => void m.retries++,
    batchSeconds: () => undefined,
  };
  return m;
}

async function effects(dataSource: DataSource): Promise<{ event_id: string; seq: number }[]> {
  return dataSource.query('select event_id, seq from effects order by seq');
}

function events(
  contract: EventContract<TestData>,
  count: number,
  make: (seq: number) => Partial<TestData> = () => ({}),
) {
  return Array.from({ length: count }, (_, seq) =>
    createEvent(contract, {
      organizationId: 'org_test',
      producer: 'test',
      data: { seq, key: `key-${seq % 7}`, behaviour: 'apply', ...make(seq) },
    }),
  );
}

describe('BatchConsumer against real Kafka and PostgreSQL', () => {
  let kafka: Kafka;
  let publisher: EventPublisher;
  let topic: TopicSpec;
  let contract: EventContract<TestData>;
  let db: TestSchema;
  let consumer: BatchConsumer<TestData> | undefined;

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new EventPublisher(kafka, 'test');
    await publisher.connect();
  });

  afterAll(async () => {
    await publisher.disconnect();
  });

  beforeEach(async () => {
    topic = await createTestTopic(kafka);
    contract = testContract(topic);
    db = await createTestSchema([EFFECTS_TABLE_SQL]);
  });

  afterEach(async () => {
    await consumer?.stop();
    consumer = undefined;
    await db.drop();
  });

  function startConsumer(
    options: {
      handler?: EffectsHandler;
      metrics?: ConsumerMetrics;
      maxEventBytes?: number;
      dataSource?: DataSource;
      groupId?: string;
    } = {},
  ): Promise<void> {
    consumer = new BatchConsumer<TestData>({
      kafka,
      dataSource: options.dataSource ?? db.dataSource,
      publisher,
      logger,
      groupId: options.groupId ?? `test-${topic.name}`,
      contracts: [contract],
      handler: options.handler ?? new EffectsHandler(),
      isTransientDependencyError: isTransientDatabaseError,
      backoff: fastBackoff,
      chunkSize: 50,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.maxEventBytes ? { maxEventBytes: options.maxEventBytes } : {}),
    });
    return consumer.start();
  }

  it('applies every event once and commits offsets only up to what it applied', async () => {
    const sent = events(contract, 300);
    await publisher.send(
      topic.name,
      sent.map((e) => toMessage(contract, e)),
    );
    await startConsumer();

    await expectEventually(async () => expect(await effects(db.dataSource)).toHaveLength(300));
    const admin = kafka.admin();
    await admin.connect();
    await expectEventually(async () => {
      const [committed] = await admin.fetchOffsets({ groupId: `test-${topic.name}`, topics: [topic.name] });
      const high = await admin.fetchTopicOffsets(topic.name);
      for (const p of committed!.partitions) {
        expect(p.offset).toBe(high.find((h) => h.partition === p.partition)!.high);
      }
    });
    await admin.disconnect();
    expect(new Set((await effects(db.dataSource)).map((r) => r.event_id))).toEqual(
      new Set(sent.map((e) => e.eventId)),
    );
  });

  it('dead-letters a permanent failure on the first attempt with its provenance, and the partition keeps flowing', async () => {
    // One key: every event on one partition, the rejected one in the middle.
    const sent = events(contract, 10, (seq) => ({ key: 'same', behaviour: seq === 5 ? 'reject' : 'apply' }));
    await publisher.send(
      topic.name,
      sent.map((e) => toMessage(contract, e)),
    );
    const handler = new EffectsHandler();
    await startConsumer({ handler });

    await expectEventually(async () =>
      expect((await effects(db.dataSource)).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9]),
    );
    const dlq = await expectEventually(async () => {
      const records = await readTopic(kafka, topic.deadLetter!.name);
      expect(records).toHaveLength(1);
      return records;
    });
    const [record] = dlq;
    const original = (await readTopic(kafka, topic.name)).find((r) => JSON.parse(r.value!).data.seq === 5)!;
    expect(record!.value).toBe(original.value);
    expect(record!.key).toBe('same');
    expect(record!.headers).toMatchObject({
      [DLQ_HEADERS.originalTopic]: topic.name,
      [DLQ_HEADERS.originalPartition]: String(original.partition),
      [DLQ_HEADERS.originalOffset]: original.offset,
      [DLQ_HEADERS.errorCode]: 'test_rejected',
      [DLQ_HEADERS.consumerGroup]: `test-${topic.name}`,
    });
  });

  it('dead-letters malformed records with a reason code and applies the valid ones around them', async () => {
    const valid = events(contract, 2);
    const good = (i: number): Message => toMessage(contract, valid[i]!);
    const envelope = (data: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        ...JSON.parse(encodeEvent(valid[0]!).toString()),
        eventId: `bad-${Math.random()}`,
        data,
        ...extra,
      });
    const bad: [string, string][] = [
      ['malformed_json', '{"eventId": "x", '],
      ['invalid_payload', envelope({ seq: 'one', key: 'k' })],
      ['unknown_event_version', envelope({ seq: 1, key: 'k' }, { eventVersion: 9 })],
      ['unknown_event_type', envelope({ seq: 1, key: 'k' }, { eventType: 'test.other' })],
      ['forbidden_key', envelope(JSON.parse('{"seq": 1, "key": "k", "__proto__": {"polluted": true}}'))],
      [
        'invalid_payload',
        envelope({ seq: 1, key: 'k', constructor: 'x' }).replace('"constructor"', '"extra"'),
      ],
      ['payload_too_large', envelope({ seq: 1, key: 'k'.repeat(5000) })],
      ['empty_payload', ''],
    ];
    await publisher.send(topic.name, [
      { ...good(0), key: 'same' },
      ...bad.map(([, value]) => ({ key: 'same', value: value || null })),
      { ...good(1), key: 'same' },
    ]);
    const metrics = countingMetrics();
    await startConsumer({ metrics, maxEventBytes: 4096 });

    await expectEventually(async () => expect(await effects(db.dataSource)).toHaveLength(2));
    const dlq = await expectEventually(async () => {
      const records = await readTopic(kafka, topic.deadLetter!.name);
      expect(records).toHaveLength(bad.length);
      return records;
    });
    expect(dlq.map((r) => r.headers[DLQ_HEADERS.errorCode])).toEqual(bad.map(([code]) => code));
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('retries a transient failure with backoff and applies the event once, never dead-lettering it', async () => {
    const sent = events(contract, 5, (seq) => ({ key: 'same', behaviour: seq === 2 ? 'flaky' : 'apply' }));
    await publisher.send(
      topic.name,
      sent.map((e) => toMessage(contract, e)),
    );
    const handler = new EffectsHandler({ flakyTimes: 6 }); // more than one round: the partition pauses in between
    const metrics = countingMetrics();
    await startConsumer({ handler, metrics });

    await expectEventually(async () =>
      expect((await effects(db.dataSource)).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]),
    );
    expect(handler.flakyFailures.get(sent[2]!.eventId)).toBe(6);
    expect(metrics.retries).toBe(6);
    expect(metrics.deadLetters).toEqual([]);
    expect(await readTopic(kafka, topic.deadLetter!.name)).toEqual([]);
  });

  it('retries an unexpected error for a round, then dead-letters only that event', async () => {
    const sent = events(contract, 6, (seq) => ({ key: 'same', behaviour: seq === 3 ? 'bug' : 'apply' }));
    await publisher.send(
      topic.name,
      sent.map((e) => toMessage(contract, e)),
    );
    const metrics = countingMetrics();
    await startConsumer({ metrics });
    await expectEventually(async () =>
      expect((await effects(db.dataSource)).map((r) => r.seq)).toEqual([0, 1, 2, 4, 5]),
    );
    expect(metrics.deadLetters).toEqual(['handler_TypeError']);
    expect(metrics.retries).toBeGreaterThanOrEqual(fastBackoff.attemptsPerRound - 1);
  });

  it('pauses instead of dead-lettering everything when unexpected errors look systemic (a bad deploy)', async () => {
    const sent = events(contract, 10, () => ({ key: 'same', behaviour: 'bug' }));
    await publisher.send(
      topic.name,
      sent.map((e) => toMessage(contract, e)),
    );
    const metrics = countingMetrics();
    await startConsumer({ metrics });
    await expectEventually(
      () => expect(metrics.retries).toBeGreaterThan(3 * fastBackoff.attemptsPerRound + 8),
      { timeoutMs: 30_000 },
    );
    expect(metrics.deadLetters).toEqual(['handler_TypeError', 'handler_TypeError', 'handler_TypeError']);
    expect(await effects(db.dataSource)).toEqual([]);
  });

  it('applies a duplicated delivery once, within a batch and across batches', async () => {
    const [event] = events(contract, 1);
    const message = toMessage(contract, event!);
    await publisher.send(topic.name, [message, message, message]);
    await startConsumer();
    await expectEventually(async () => expect(await effects(db.dataSource)).toHaveLength(1));
    await publisher.send(topic.name, [message]);
    const [marker] = events(contract, 1, () => ({ seq: 99 }));
    await publisher.send(topic.name, [toMessage(contract, marker!)]);
    await expectEventually(async () =>
      expect((await effects(db.dataSource)).map((r) => r.seq)).toEqual([0, 99]),
    );
  });

  it('waits out a PostgreSQL outage: nothing lost, nothing duplicated, nothing dead-lettered', async () => {
    const pg = await PrivatePostgres.create();
    try {
      await provisionServiceDatabases(pg.adminUrl, [{ schema: 'outage', password: 'outage-pw' }]);
      const dataSource = createServiceDataSource({
        url: serviceDatabaseUrl(pg.adminUrl, { schema: 'outage', password: 'outage-pw' }),
        schema: 'outage',
        applicationName: 'veil-test',
        migrations: MESSAGING_MIGRATIONS,
      });
      await dataSource.initialize();
      await runMigrations(dataSource);
      await dataSource.query(EFFECTS_TABLE_SQL);
      const metrics = countingMetrics();
      await startConsumer({ dataSource, metrics });

      const checker = new DeliveryChecker();
      const first = events(contract, 100);
      await publisher.send(
        topic.name,
        first.map((e) => toMessage(contract, e)),
      );
      checker.recordAcked(first.map((e) => e.eventId));
      await expectEventually(async () => expect(await effects(dataSource)).toHaveLength(100));

      await pg.stop();
      const second = events(contract, 100, (seq) => ({ seq: seq + 100 }));
      await publisher.send(
        topic.name,
        second.map((e) => toMessage(contract, e)),
      );
      checker.recordAcked(second.map((e) => e.eventId));
      await expectEventually(() => expect(metrics.retries).toBeGreaterThan(2), { timeoutMs: 30_000 });
      await pg.start();

      await expectEventually(async () => expect(await effects(dataSource)).toHaveLength(200), {
        timeoutMs: 60_000,
      });
      const report = checker.check((await effects(dataSource)).map((r) => r.event_id));
      expect(report).toMatchObject({ lost: [], duplicated: [], unexpected: [] });
      expect(metrics.deadLetters).toEqual([]);
      expect(await readTopic(kafka, topic.deadLetter!.name)).toEqual([]);
      await consumer?.stop();
      consumer = undefined;
      await dataSource.destroy();
    } finally {
      await pg.destroy();
    }
  });

  it('loses and duplicates nothing when the consuming process is killed with SIGKILL mid-batch', async () => {
    const url = adminDatabaseUrl();
    const processEnv = {
      ...kafkaEnvironment(),
      DATABASE_URL: url,
      TEST_SCHEMA: db.schema,
      TEST_TOPIC: topic.name,
      TEST_GROUP: `test-${topic.name}`,
      TEST_DELAY_MS: '20',
      TEST_CHUNK_SIZE: '50',
    };
    const logFile = join(logDirectory(), 'test', `consumer-${topic.name}.log`);
    const checker = new DeliveryChecker();
    const total = 3000;
    const sent = events(contract, total);
    const firstHalf = sent.slice(0, total / 2);
    await publisher.send(
      topic.name,
      firstHalf.map((e) => toMessage(contract, e)),
    );
    checker.recordAcked(firstHalf.map((e) => e.eventId));

    const first = new ManagedProcess(
      'libs/platform/kafka/test/fixtures/consume-into-table.ts',
      processEnv,
      logFile,
    ).start();
    await expectEventually(async () => {
      const [row] = await db.dataSource.query('select count(*)::int as n from effects');
      expect(row.n).toBeGreaterThan(300);
    });
    await first.kill(); // mid-stream: a chunk is in flight (20 ms per chunk in the handler)
    const [{ n: appliedAtKill }] = await db.dataSource.query('select count(*)::int as n from effects');
    expect(appliedAtKill).toBeLessThan(total / 2);

    const secondHalf = sent.slice(total / 2);
    await publisher.send(
      topic.name,
      secondHalf.map((e) => toMessage(contract, e)),
    );
    checker.recordAcked(secondHalf.map((e) => e.eventId));

    const second = new ManagedProcess(
      'libs/platform/kafka/test/fixtures/consume-into-table.ts',
      processEnv,
      logFile,
    ).start();
    try {
      await expectEventually(async () => expect(await effects(db.dataSource)).toHaveLength(total), {
        timeoutMs: 90_000,
      });
      const report = checker.check((await effects(db.dataSource)).map((r) => r.event_id));
      expect(report).toEqual({ acked: total, applied: total, lost: [], duplicated: [], unexpected: [] });
    } finally {
      await second.stop();
    }
  });

  it('sets aside an outbox row the broker refuses for good, and relays the rest in order', async () => {
    const writer = new OutboxWriter('test');
    await db.dataSource.transaction(async (tx) => {
      await writer.enqueueMany(
        tx,
        contract,
        [0, 1, 2].map((seq) => ({
          organizationId: 'org_test',
          // the middle one exceeds the broker's message.max.bytes (8 MiB on the local stack)
          data: {
            seq,
            key: 'same',
            behaviour: 'apply' as const,
            ...(seq === 1 ? { pad: 'x'.repeat(9 * 1024 * 1024) } : {}),
          },
        })),
      );
    });
    const relay = new OutboxRelay({ dataSource: db.dataSource, publisher, logger, idlePollMs: 20 });
    relay.start();
    try {
      await expectEventually(async () => {
        const rows = await db.dataSource.query(
          `select (published_at is not null) as published, quarantined_at is not null as quarantined, failure from outbox order by id`,
        );
        expect(rows).toEqual([
          { published: true, quarantined: false, failure: null },
          { published: false, quarantined: true, failure: expect.stringMatching(/./) },
          { published: true, quarantined: false, failure: null },
        ]);
      });
      expect((await readTopic(kafka, topic.name)).map((r) => JSON.parse(r.value!).data.seq)).toEqual([0, 2]);
    } finally {
      await relay.stop();
    }
  });

  it('never sets aside an audit-trail row the broker refuses: it waits first in line, reported, until it can go', async () => {
    const writer = new OutboxWriter('test');
    const organizationId = testOrganizationId();
    const audit = (i: number) => ({
      organizationId,
      data: {
        action: 'test.relay',
        actor: { type: 'service' as const, id: 'test' },
        outcome: 'allowed' as const,
        targets: {},
        purpose: `row ${i}`,
      },
    });
    const [first, refused, after] = await db.dataSource.transaction(async (tx) => [
      await writer.enqueue(tx, AuditEvent, audit(0), { ordered: false }),
      await writer.enqueue(tx, AuditEvent, audit(1), { ordered: false }),
      await writer.enqueue(tx, AuditEvent, audit(2), { ordered: false }),
    ]);
    // The middle one made too large for the broker (8 MiB on the local stack), as a bug might.
    const [{ payload: original }] = (await db.dataSource.query(
      'select payload from outbox where event_id = $1',
      [refused!.eventId],
    )) as [{ payload: string }];
    await db.dataSource.query('update outbox set payload = $2 where event_id = $1', [
      refused!.eventId,
      original.replace('"purpose":"row 1"', `"purpose":"${'x'.repeat(9 * 1024 * 1024)}"`),
    ]);
    const relay = new OutboxRelay({ dataSource: db.dataSource, publisher, logger, idlePollMs: 20 });
    relay.start();
    try {
      await expectEventually(async () => {
        const rows = await db.dataSource.query(
          `select event_id, published_at is not null as published, quarantined_at is not null as quarantined,
                  failure is not null as failed from outbox where event_id = any($1::text[]) order by id`,
          [[first!.eventId, refused!.eventId, after!.eventId]],
        );
        expect(rows).toEqual([
          { event_id: first!.eventId, published: true, quarantined: false, failed: false },
          { event_id: refused!.eventId, published: false, quarantined: false, failed: true },
          { event_id: after!.eventId, published: false, quarantined: false, failed: false },
        ]);
        expect(await relay.undeliverable()).toBe(1);
      });
      // An operator repairs the row: it goes, then what waited behind it, in order.
      await db.dataSource.query('update outbox set payload = $2 where event_id = $1', [
        refused!.eventId,
        original,
      ]);
      await expectEventually(async () => {
        const [{ n }] = (await db.dataSource.query(
          'select count(*)::int as n from outbox where event_id = any($1::text[]) and published_at is null',
          [[first!.eventId, refused!.eventId, after!.eventId]],
        )) as [{ n: number }];
        expect(n).toBe(0);
        expect(await relay.undeliverable()).toBe(0);
      });
    } finally {
      await relay.stop();
    }
  });

  it('relays every outbox row to consumers exactly once after a relay crash between send and mark', async () => {
    const writer = new OutboxWriter('test');
    const checker = new DeliveryChecker();
    const total = 500;
    await db.dataSource.transaction(async (tx) => {
      const written = await writer.enqueueMany(
        tx,
        contract,
        Array.from({ length: total }, (_, seq) => ({
          organizationId: 'org_test',
          data: { seq, key: `key-${seq % 5}`, behaviour: 'apply' as const },
        })),
      );
      checker.recordAcked(written.map((e) => e.eventId));
    });
    const env = {
      ...kafkaEnvironment(),
      DATABASE_URL: adminDatabaseUrl(),
      TEST_SCHEMA: db.schema,
      TEST_BATCH_SIZE: '100',
    };
    const logFile = join(logDirectory(), 'test', `relay-${topic.name}.log`);
    const crashing = new ManagedProcess(
      'libs/platform/kafka/test/fixtures/relay-outbox.ts',
      { ...env, TEST_CRASH_AFTER_SEND: '1' },
      logFile,
    ).start();
    const exit = await crashing.waitExit(60_000);
    expect(exit.signal).toBe('SIGKILL');
    // The crash happened after the broker acknowledged and before the rows were marked.
    const [{ n: pendingAfterCrash }] = await db.dataSource.query(
      'select count(*)::int as n from outbox where published_at is null',
    );
    expect(pendingAfterCrash).toBe(total);
    expect(await readTopic(kafka, topic.name)).toHaveLength(100);

    const relay = new ManagedProcess(
      'libs/platform/kafka/test/fixtures/relay-outbox.ts',
      env,
      logFile,
    ).start();
    try {
      await expectEventually(async () => {
        const [{ n }] = await db.dataSource.query(
          'select count(*)::int as n from outbox where published_at is null',
        );
        expect(n).toBe(0);
      });
      await startConsumer();
      await expectEventually(async () => expect(await effects(db.dataSource)).toHaveLength(total));
      // the topic holds the re-sent batch twice; consumers still apply each event once
      expect(await readTopic(kafka, topic.name)).toHaveLength(total + 100);
      const report = checker.check((await effects(db.dataSource)).map((r) => r.event_id));
      expect(report).toEqual({ acked: total, applied: total, lost: [], duplicated: [], unexpected: [] });
      // per key, the topic order is the outbox order
      const records = await readTopic(kafka, topic.name);
      const byKey = new Map<string, number[]>();
      for (const r of records.slice()) {
        const seq = JSON.parse(r.value!).data.seq as number;
        byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), seq]);
      }
      for (const seqs of byKey.values()) {
        const firstPass = seqs.filter((s, i) => seqs.indexOf(s) === i);
        expect(firstPass).toEqual([...firstPass].sort((a, b) => a - b));
      }
    } finally {
      await relay.stop();
    }
  });
});
