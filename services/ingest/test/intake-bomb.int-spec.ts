import { InquiryCreated } from '@veil/contracts';
import { DLQ_HEADERS } from '@veil/platform/kafka';
import {
  adminQuery,
  canary,
  expectEventually,
  produceWithJavaClient,
  readTopic,
  testKafka,
  testOrganizationId,
  type UpstreamCodec,
} from '@veil/testing';
import type { Kafka } from 'kafkajs';

import { fullInquiry, IntakeStack, intakeEvent } from './intake-stack';

jest.setTimeout(300_000);

/**
 * One record of 100 MiB of a single byte: past the consumers' 64 MiB cap on a decompressed batch,
 * yet within the broker's 8 MiB message.max.bytes once compressed by Kafka's Java client
 * (zstd ≈ 3 KB, gzip ≈ 100 KB, lz4 ≈ 430 KB, snappy ≈ 4.7 MiB).
 */
const BOMB_BYTES = 100 * 1024 * 1024;

async function recordedInquiryIds(organizationId: string): Promise<string[]> {
  const rows = await adminQuery<{ inquiry_id: string }>(
    'select inquiry_id from ingest.inquiries where organization_id = $1 order by inquiry_id',
    [organizationId],
  );
  return rows.map((r) => r.inquiry_id);
}

describe('intake: decompression bombs from a Java producer', () => {
  let stack: IntakeStack;
  let kafka: Kafka;
  const startedAt = new Date(Date.now() - 5_000);

  beforeAll(async () => {
    kafka = testKafka();
    stack = await IntakeStack.start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it.each<UpstreamCodec>(['zstd', 'lz4', 'snappy', 'gzip'])(
    '%s: dead-letters the bomb with payload_too_large, stays up, and records the inquiry behind it',
    async (codec) => {
      const org = testOrganizationId();
      const data = fullInquiry(canary());
      // Same key, so the same partition: the inquiry waits behind the bomb. Two runs of the
      // producer, so two record batches: the inquiry is not in the refused batch.
      const [bombAck] = await produceWithJavaClient(
        InquiryCreated.topic.name,
        [{ key: data.inquiryId, fill: { byte: 'x', bytes: BOMB_BYTES } }],
        codec,
      );
      const [partition, offset] = bombAck!.split(' ');
      const [inquiryAck] = await produceWithJavaClient(
        InquiryCreated.topic.name,
        [{ key: data.inquiryId, value: JSON.stringify(intakeEvent(org, data)) }],
        codec,
      );
      expect(inquiryAck!.split(' ')[0]).toBe(partition);

      await expectEventually(async () => expect(await recordedInquiryIds(org)).toEqual([data.inquiryId]), {
        timeoutMs: 90_000,
      });

      const dead = await expectEventually(async () => {
        const records = (
          await readTopic(kafka, InquiryCreated.topic.deadLetter!.name, { since: startedAt })
        ).filter(
          (r) =>
            r.headers[DLQ_HEADERS.originalPartition] === partition &&
            r.headers[DLQ_HEADERS.originalOffset] === offset,
        );
        expect(records).toHaveLength(1);
        return records;
      });
      // Nothing of the bomb was read, so nothing of it is kept: where it was and why.
      expect(dead[0]).toMatchObject({ key: null, value: null });
      expect(dead[0]!.headers).toMatchObject({
        [DLQ_HEADERS.errorCode]: 'payload_too_large',
        [DLQ_HEADERS.originalTopic]: InquiryCreated.topic.name,
        [DLQ_HEADERS.consumerGroup]: 'ingest.inquiry-intake',
      });
      expect(dead[0]!.headers[DLQ_HEADERS.errorDetail]).toContain(`${codec}-compressed record batch`);
      expect(dead[0]!.headers[DLQ_HEADERS.failedAt]).toBeDefined();

      expect(stack.ingest.running).toBe(true);
      expect((await stack.ingest.get('/health/ready')).status).toBe(200);
    },
  );
});
