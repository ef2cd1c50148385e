import { InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { toMessage } from '@veil/platform/kafka';
import {
  adminDatabaseUrl,
  adminQuery,
  canary,
  DeliveryChecker,
  expectEventually,
  PrivateKms,
  readTopic,
  scanForCanaries,
  testId,
  testKafka,
  testOrganizationId,
} from '@veil/testing';
import type { Kafka, Producer } from 'kafkajs';

import { IntakeStack, intakeEvent } from './intake-stack';

jest.setTimeout(300_000);

function smallInquiry(tag: string): InquiryCreatedV1 {
  return {
    inquiryId: testId('inq'),
    templateId: 'itmpl_test',
    status: 'completed',
    attributes: {
      nameFirst: `First ${tag}`,
      nameLast: `Last ${tag}`,
      birthdate: '1990-01-31',
      emailAddress: `x${tag}@example.com`,
    },
  };
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await adminQuery<{ n: number }>(sql, params);
  return row!.n;
}

/** Side effects per inquiry, as "org/inquiry" once per row: duplicates would appear twice. */
async function appliedKeys(table: 'ingest.inquiries' | 'vault.data_keys', orgs: string[]): Promise<string[]> {
  const rows = await adminQuery<{ k: string }>(
    `select organization_id || '/' || inquiry_id as k from ${table} where organization_id = any($1::text[])`,
    [orgs],
  );
  return rows.map((r) => r.k);
}

describe('intake under faults', () => {
  const startedAt = new Date(Date.now() - 5_000);
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    kafka = testKafka();
    producer = kafka.producer();
    await producer.connect();
  });
  afterAll(async () => {
    await producer?.disconnect();
  });

  it('loses and duplicates nothing when ingest and then the vault are killed with SIGKILL mid-stream', async () => {
    const stack = await IntakeStack.start();
    try {
      const orgs = [testOrganizationId(), testOrganizationId(), testOrganizationId()];
      const checker = new DeliveryChecker();
      const publish = async (n: number) => {
        const events = Array.from({ length: n }, (_, i) => {
          const org = orgs[i % orgs.length]!;
          return { org, event: intakeEvent(org, smallInquiry(String(i))) };
        });
        for (let i = 0; i < events.length; i += 500) {
          const slice = events.slice(i, i + 500);
          await producer.send({
            topic: InquiryCreated.topic.name,
            messages: slice.map((e) => toMessage(InquiryCreated, e.event)),
          });
          checker.recordAcked(slice.map((e) => `${e.org}/${e.event.data.inquiryId}`));
        }
      };

      await publish(3000);
      await expectEventually(
        async () => expect((await appliedKeys('ingest.inquiries', orgs)).length).toBeGreaterThan(200),
        {
          timeoutMs: 60_000,
        },
      );
      await stack.ingest.kill();
      await publish(1500);
      stack.ingest.start();
      await stack.ingest.waitReady();

      await expectEventually(
        async () => expect((await appliedKeys('ingest.inquiries', orgs)).length).toBeGreaterThan(3200),
        {
          timeoutMs: 90_000,
        },
      );
      await stack.vault.kill(); // ingest now fails transiently until the vault is back
      await publish(1500);
      stack.vault.start();
      await stack.vault.waitReady();

      await expectEventually(
        async () => expect((await appliedKeys('ingest.inquiries', orgs)).length).toBe(checker.ackedCount),
        {
          timeoutMs: 120_000,
        },
      );
      expect(checker.check(await appliedKeys('ingest.inquiries', orgs))).toMatchObject({
        lost: [],
        duplicated: [],
        unexpected: [],
      });
      // one vault write per inquiry, one inquiry.recorded per inquiry
      expect(checker.check(await appliedKeys('vault.data_keys', orgs))).toMatchObject({
        lost: [],
        duplicated: [],
        unexpected: [],
      });
      expect(
        await count(
          `select count(*)::int as n from ingest.outbox where organization_id = any($1::text[]) and topic = 'inquiry.recorded'`,
          [orgs],
        ),
      ).toBe(checker.ackedCount);
      const dead = (
        await readTopic(kafka, InquiryCreated.topic.deadLetter!.name, { since: startedAt })
      ).filter((r) => orgs.some((o) => r.value?.includes(o)));
      expect(dead).toEqual([]);
    } finally {
      await stack.stop();
    }
  });

  it('stores nothing unencrypted while KMS is down, dead-letters nothing, and drains when KMS returns', async () => {
    const kms = await PrivateKms.create();
    const stack = await IntakeStack.start({ vault: { KMS_ENDPOINT: kms.endpoint } });
    try {
      const warm = testOrganizationId();
      await producer.send({
        topic: InquiryCreated.topic.name,
        messages: [toMessage(InquiryCreated, intakeEvent(warm, smallInquiry('warm')))],
      });
      await expectEventually(
        async () => expect(await appliedKeys('ingest.inquiries', [warm])).toHaveLength(1),
        { timeoutMs: 60_000 },
      );

      await kms.stop();
      await expectEventually(async () => {
        const ready = await stack.vault.management('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ checks: { kms: { status: 'down' } } });
      });

      // New organizations need a new key from KMS: nothing of theirs can be stored until it is back.
      const orgs = [testOrganizationId(), testOrganizationId()];
      const values: string[] = [];
      const inquiries = Array.from({ length: 40 }, (_, i) => {
        const tag = canary();
        values.push(`First ${tag}`, `Last ${tag}`);
        return { org: orgs[i % 2]!, data: smallInquiry(tag) };
      });
      await producer.send({
        topic: InquiryCreated.topic.name,
        messages: inquiries.map((i) => toMessage(InquiryCreated, intakeEvent(i.org, i.data))),
      });
      await expectEventually(
        async () => {
          const metrics = String((await stack.ingest.management('/metrics')).body);
          const retries = /veil_consumer_retries_total\{[^}]*group="ingest.inquiry-intake"[^}]*\} (\d+)/.exec(
            metrics,
          );
          expect(Number(retries?.[1] ?? 0)).toBeGreaterThanOrEqual(2);
        },
        { timeoutMs: 60_000 },
      );
      expect(await appliedKeys('ingest.inquiries', orgs)).toEqual([]);
      expect(await appliedKeys('vault.data_keys', orgs)).toEqual([]);
      expect(
        await scanForCanaries({
          canaries: values,
          databaseUrl: adminDatabaseUrl(),
          logPaths: stack.logFiles(),
        }),
      ).toEqual([]);

      await kms.start();
      await expectEventually(
        async () => expect(await appliedKeys('ingest.inquiries', orgs)).toHaveLength(40),
        { timeoutMs: 90_000 },
      );
      expect(await appliedKeys('vault.data_keys', orgs)).toHaveLength(40);
      const dead = (
        await readTopic(kafka, InquiryCreated.topic.deadLetter!.name, { since: startedAt })
      ).filter((r) => orgs.some((o) => r.value?.includes(o)));
      expect(dead).toEqual([]);
      expect(
        await scanForCanaries({
          canaries: values,
          databaseUrl: adminDatabaseUrl(),
          logPaths: stack.logFiles(),
        }),
      ).toEqual([]);
      await stack.vault.waitReady();
    } finally {
      await stack.stop();
      await kms.destroy();
    }
  });
});
