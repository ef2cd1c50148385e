import { randomUUID } from 'node:crypto';

import { encodeEvent, InquiryCreated, type InquiryCreatedV1, PII_ATTRIBUTES } from '@veil/contracts';
import { DLQ_HEADERS, toMessage } from '@veil/platform/kafka';
import {
  adminDatabaseUrl,
  adminQuery,
  canary,
  expectEventually,
  produceWithJavaClient,
  readTopic,
  scanForCanaries,
  testKafka,
  testOrganizationId,
  type UpstreamCodec,
} from '@veil/testing';
import type { Kafka, Producer } from 'kafkajs';

import { fullInquiry, IntakeStack, intakeEvent } from './intake-stack';

jest.setTimeout(240_000);

/** Every plaintext value of an inquiry: what must never show up outside the vault's ciphertexts. */
function plaintextValues(data: InquiryCreatedV1): string[] {
  const values = Object.values(data.attributes).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return [...values, ...(data.referenceId ? [data.referenceId] : [])].filter((v) => v.length >= 12);
}

async function recordedInquiries(
  organizationId: string,
): Promise<{ inquiry_id: string; attributes_provided: string[] }[]> {
  return adminQuery(
    'select inquiry_id, attributes_provided from ingest.inquiries where organization_id = $1 order by inquiry_id',
    [organizationId],
  );
}

async function vaultCounts(organizationId: string): Promise<{ data_keys: number; attributes: number }> {
  const [row] = await adminQuery<{ data_keys: number; attributes: number }>(
    `select (select count(*)::int from vault.data_keys where organization_id = $1) as data_keys,
            (select coalesce(sum(cardinality(attributes)), 0)::int from vault.encrypted_fields where organization_id = $1) as attributes`,
    [organizationId],
  );
  return row!;
}

describe('intake: inquiry.created -> ingest -> vault -> inquiry.recorded', () => {
  let stack: IntakeStack;
  let kafka: Kafka;
  let producer: Producer;
  const canaries: string[] = [];

  const startedAt = new Date(Date.now() - 5_000); // every canary of this file is produced after this

  beforeAll(async () => {
    kafka = testKafka();
    producer = kafka.producer(); // a plain kafkajs producer, as an upstream Node service would use
    await producer.connect();
    stack = await IntakeStack.start();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await stack?.stop();
  });

  it('records and encrypts inquiries published by a plain kafkajs producer; a reveal returns exactly the originals', async () => {
    const org = testOrganizationId();
    const inquiries = Array.from({ length: 20 }, () => fullInquiry(canary()));
    inquiries.forEach((i) => canaries.push(...plaintextValues(i)));
    await producer.send({
      topic: InquiryCreated.topic.name,
      messages: inquiries.map((data) => ({
        key: data.inquiryId,
        value: JSON.stringify(intakeEvent(org, data)),
      })),
    });

    await expectEventually(async () => expect(await recordedInquiries(org)).toHaveLength(20), {
      timeoutMs: 60_000,
    });
    const rows = await recordedInquiries(org);
    expect(rows[0]!.attributes_provided.sort()).toEqual([...PII_ATTRIBUTES].sort());
    expect(await vaultCounts(org)).toEqual({ data_keys: 20, attributes: 20 * PII_ATTRIBUTES.length });

    const recorded = await expectEventually(async () => {
      const events = (await readTopic(kafka, 'inquiry.recorded', { since: startedAt }))
        .map((r) => JSON.parse(r.value!))
        .filter((e) => e.organizationId === org);
      expect(events).toHaveLength(20);
      return events;
    });
    expect(recorded[0].data.attributesProvided.sort()).toEqual([...PII_ATTRIBUTES].sort());
    expect(recorded[0].data).not.toHaveProperty('vaultTokens'); // deprecated: no longer sent

    const { status, body } = await stack.reveal({
      organizationId: org,
      inquiryIds: inquiries.map((i) => i.inquiryId),
      attributes: [...PII_ATTRIBUTES],
      purpose: 'integration test: happy path',
    });
    expect(status).toBe(200);
    const revealed = (body as { inquiries: { inquiryId: string; attributes: Record<string, unknown> }[] })
      .inquiries;
    for (const inquiry of inquiries) {
      const got = revealed.find((r) => r.inquiryId === inquiry.inquiryId)!;
      expect(got.attributes).toEqual({ referenceId: inquiry.referenceId, ...inquiry.attributes });
    }
  });

  it.each<UpstreamCodec>(['none', 'gzip', 'snappy', 'lz4', 'zstd'])(
    'consumes what a Java producer sends with %s compression, with and without keys and headers',
    async (codec) => {
      const org = testOrganizationId();
      const inquiries = Array.from({ length: 6 }, () => fullInquiry(canary()));
      inquiries.forEach((i) => canaries.push(...plaintextValues(i)));
      await produceWithJavaClient(
        InquiryCreated.topic.name,
        inquiries.map((data, i) => ({
          key: i % 2 === 0 ? data.inquiryId : null,
          value: JSON.stringify(intakeEvent(org, data)),
          ...(i % 3 === 0 ? { headers: { 'x-upstream': 'idv-java', traceparent: '00-abc-def-01' } } : {}),
        })),
        codec,
      );
      await expectEventually(async () => expect(await recordedInquiries(org)).toHaveLength(6), {
        timeoutMs: 60_000,
      });
    },
  );

  it('dead-letters bad records on the first attempt with a reason, stores nothing of them, and keeps consuming', async () => {
    const org = testOrganizationId();
    const good = fullInquiry(canary());
    const envelope = (data: unknown, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        ...JSON.parse(encodeEvent(intakeEvent(org, good)).toString()),
        eventId: randomUUID(),
        data,
        ...extra,
      });
    const bad: [string, string][] = [
      ['malformed_json', `{"organizationId": "${org}", "data": {`],
      [
        'invalid_payload',
        envelope({ ...good, inquiryId: 'inq_badtype', attributes: { birthdate: 19900131 } }),
      ],
      [
        'invalid_payload',
        envelope({ ...good, inquiryId: 'inq_unknown', attributes: { favouriteColour: 'blue' } }),
      ],
      ['unknown_event_version', envelope({ ...good, inquiryId: 'inq_v9' }, { eventVersion: 9 })],
      [
        'forbidden_key',
        envelope(
          JSON.parse(
            `{"inquiryId":"inq_proto","templateId":"t","status":"created","attributes":{},"__proto__":{"isAdmin":true}}`,
          ),
        ),
      ],
      [
        'forbidden_key',
        envelope({
          ...good,
          inquiryId: 'inq_ctor',
          attributes: { constructor: { prototype: { isAdmin: true } } },
        }),
      ],
      [
        'payload_too_large',
        envelope({ ...good, inquiryId: 'inq_big', templateId: 'x'.repeat(1024 * 1024 + 10) }),
      ],
    ];
    const marker = randomUUID();
    await producer.send({
      topic: InquiryCreated.topic.name,
      messages: [
        ...bad.map(([code, value]) => ({ key: `bad-${code}`, value, headers: { 'x-test-marker': marker } })),
        toMessage(InquiryCreated, intakeEvent(org, good)),
      ],
    });

    await expectEventually(async () => expect(await recordedInquiries(org)).toHaveLength(1), {
      timeoutMs: 60_000,
    });
    const dead = await expectEventually(async () => {
      const records = (
        await readTopic(kafka, InquiryCreated.topic.deadLetter!.name, { since: startedAt })
      ).filter((r) => r.headers['x-test-marker'] === marker);
      expect(records).toHaveLength(bad.length);
      return records;
    });
    expect(dead.map((r) => r.headers[DLQ_HEADERS.errorCode]).sort()).toEqual(
      bad.map(([code]) => code).sort(),
    );
    for (const record of dead) {
      expect(record.headers[DLQ_HEADERS.consumerGroup]).toBe('ingest.inquiry-intake');
      expect(record.headers[DLQ_HEADERS.originalTopic]).toBe('inquiry.created');
    }
    expect((await recordedInquiries(org)).map((r) => r.inquiry_id)).toEqual([good.inquiryId]);
    expect(await vaultCounts(org)).toEqual({ data_keys: 1, attributes: PII_ATTRIBUTES.length });
    expect(Object.prototype).not.toHaveProperty('isAdmin');
    expect(stack.ingest.running).toBe(true);
  });

  it('records each inquiry once, with one vault write, when 10% of events are duplicated and some reordered', async () => {
    const org = testOrganizationId();
    const inquiries = Array.from({ length: 100 }, (_, i) => fullInquiry(`dup-${i}`));
    const events = inquiries.map((data) => intakeEvent(org, data));
    const messages = events.map((e) => toMessage(InquiryCreated, e));
    // 10 exact redeliveries (same event id) and 5 re-sends of the same inquiry under a new event id
    const redelivered = messages.slice(0, 10);
    const resent = inquiries.slice(20, 25).map((data) => toMessage(InquiryCreated, intakeEvent(org, data)));
    const all = [...messages, ...redelivered, ...resent];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    await producer.send({ topic: InquiryCreated.topic.name, messages: all.slice(0, 60) });
    await producer.send({ topic: InquiryCreated.topic.name, messages: all.slice(60) });

    await expectEventually(async () => expect(await recordedInquiries(org)).toHaveLength(100), {
      timeoutMs: 60_000,
    });
    await expectEventually(async () => {
      const [row] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from ingest.outbox where organization_id = $1 and topic = 'inquiry.recorded'`,
        [org],
      );
      expect(row!.n).toBe(100);
    });
    expect(await vaultCounts(org)).toEqual({ data_keys: 100, attributes: 100 * PII_ATTRIBUTES.length });
  });

  it('accepts inquiries over HTTP with the service credential, and rejects bad ones with clear errors', async () => {
    const org = testOrganizationId();
    const url = `${stack.ingest.baseUrl}/v1/inquiries`;
    const auth = {
      authorization: `Bearer ${stack.ingest.env.INGEST_INTAKE_TOKEN}`,
      'content-type': 'application/json',
    };
    const data = fullInquiry(canary());
    canaries.push(...plaintextValues(data));

    const ok = await fetch(url, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ organizationId: org, ...data }),
    });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('request-id')).toMatch(/^req_/);
    expect(await ok.json()).toMatchObject({ inquiryId: data.inquiryId, status: 'accepted' });
    await expectEventually(async () => expect(await recordedInquiries(org)).toHaveLength(1), {
      timeoutMs: 60_000,
    });

    const noAuth = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(noAuth.status).toBe(401);
    expect(await noAuth.json()).toMatchObject({ code: 'unauthorized' });

    const invalid = await fetch(url, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        organizationId: org,
        ...data,
        inquiryId: 'inq_http_bad',
        attributes: { nameFirst: 7, favouriteColour: 'x' },
      }),
    });
    expect(invalid.status).toBe(400);
    const invalidBody = (await invalid.json()) as {
      code: string;
      requestId: string;
      details: { fields: { path: string; issue: string }[] };
    };
    expect(invalidBody.code).toBe('invalid_request');
    expect(invalidBody.details.fields).toEqual(
      expect.arrayContaining([
        { path: 'attributes.nameFirst', issue: 'invalid_type' },
        { path: 'attributes', issue: 'unrecognized_keys [favouriteColour]' },
      ]),
    );

    const malformed = await fetch(url, { method: 'POST', headers: auth, body: '{"organizationId": ' });
    expect(malformed.status).toBe(400);

    const huge = await fetch(url, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ organizationId: org, ...data, templateId: 'x'.repeat(1024 * 1024 + 1) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 'payload_too_large' });
    expect(await recordedInquiries(org)).toHaveLength(1);
  });

  it('keeps every plaintext value out of every schema, PII-free topic, dead-letter topic and service log (canary scan)', async () => {
    expect(canaries.length).toBeGreaterThan(100);
    // let the relays publish everything first
    await expectEventually(async () => {
      const [row] = await adminQuery<{ n: number }>(
        `select (select count(*) from ingest.outbox where published_at is null) + (select count(*) from vault.outbox where published_at is null) as n`,
      );
      expect(Number(row!.n)).toBe(0);
    });
    const hits = await scanForCanaries({
      canaries,
      databaseUrl: adminDatabaseUrl(),
      kafka,
      since: startedAt,
      logPaths: stack.logFiles(),
    });
    expect(hits).toEqual([]);
  });
});
