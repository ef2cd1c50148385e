import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

import { AuditCheckpointSigned, AuditEvent, createEvent, InquiryCreated } from '@veil/contracts';
import { JsonLogger } from '@veil/platform/logging';
import { produceWithJavaClient } from '@veil/testing';
import type { Kafka } from 'kafkajs';

import { createKafkaClient, type KafkaSecurity, kafkaSecurityFromEnv } from '../src/client';
import { toMessage } from '../src/publisher';

jest.setTimeout(120_000);

const brokers = () => process.env.KAFKA_BROKERS!.split(',');
const logger = new JsonLogger('test', 'fatal');

function clientAs(principal: string, security: Partial<KafkaSecurity> = {}): Kafka {
  const env = kafkaSecurityFromEnv();
  const password =
    process.env[
      `VEIL_KAFKA_PASSWORD_${principal
        .replace(/^veil-/, '')
        .toUpperCase()
        .replace(/-/g, '_')}`
    ];
  return createKafkaClient({
    clientId: `veil-security-test-${principal}`,
    brokers: brokers(),
    logger,
    // a few retries: a fresh broker may still be electing the group coordinator
    retries: 4,
    security: { ...env, username: principal, ...(password ? { password } : {}), ...security },
  });
}

/** The broker's error code, under kafkajs's retry wrappers. */
function errorType(error: unknown): string {
  let e = error as { type?: string; name?: string; cause?: unknown; originalError?: unknown } | undefined;
  while (e && !e.type && (e.cause || e.originalError)) e = (e.cause ?? e.originalError) as typeof e;
  return e?.type ?? e?.name ?? String(error);
}

async function produce(kafka: Kafka, topic: string, value: string): Promise<string> {
  const producer = kafka.producer({ retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'probe', value }] });
    return 'ok';
  } catch (error) {
    return errorType(error);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

async function consume(kafka: Kafka, topic: string, groupId: string): Promise<string> {
  // Retries cover a fresh broker still electing its group coordinator (authorization errors are
  // not retried); no restart after a crash: a restart scheduled by kafkajs would outlive the test.
  const consumer = kafka.consumer({
    groupId,
    retry: { retries: 8, initialRetryTime: 200, restartOnFailure: async () => false },
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    // run() returns once the group is joined and synced, or after a crash (reported by the event)
    let crash: unknown;
    consumer.on(consumer.events.CRASH, ({ payload }) => (crash = payload.error));
    await consumer.run({ eachMessage: async () => undefined });
    if (crash) throw crash;
    return 'ok';
  } catch (error) {
    return errorType(error);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

const validInquiry = () =>
  String(
    toMessage(
      InquiryCreated,
      createEvent(InquiryCreated, {
        organizationId: `org_test_${randomBytes(6).toString('hex')}`,
        producer: 'security-test',
        data: {
          inquiryId: `inq_${randomBytes(8).toString('hex')}`,
          referenceId: 'ref-security-probe',
          templateId: 'itmpl_probe',
          status: 'completed',
          attributes: { nameFirst: 'Probe' },
        },
      }),
    ).value,
  );

const forgedAuditEvent = () =>
  String(
    toMessage(
      AuditEvent,
      createEvent(AuditEvent, {
        organizationId: 'veil',
        producer: 'mallory',
        data: {
          action: 'audit.forged',
          actor: { type: 'operator', id: 'op_mallory' },
          outcome: 'allowed',
          targets: {},
        },
      }),
    ).value,
  );

describe('the local broker: TLS, SASL/SCRAM and ACLs made from the topic contracts', () => {
  beforeAll(() => {
    if (process.env.KAFKA_SECURITY_PROTOCOL !== 'sasl_ssl')
      throw new Error('these tests need the secured local broker (tools/infra.sh up)');
  });

  it('refuses clients without TLS, without the CA, or with a wrong password', async () => {
    const plaintext = createKafkaClient({
      clientId: 'probe',
      brokers: brokers(),
      logger,
      security: { protocol: 'plaintext' },
    });
    expect(await produce(plaintext, InquiryCreated.topic.name, validInquiry())).not.toBe('ok');

    // a CA of our own, not the broker's
    const dir = mkdtempSync(join(tmpdir(), 'veil-ca-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=other',
        '-keyout',
        join(dir, 'k'),
        '-out',
        join(dir, 'ca.pem'),
      ],
      { stdio: 'ignore' },
    );
    expect(
      await produce(
        clientAs('veil-upstream', { caFile: join(dir, 'ca.pem') }),
        InquiryCreated.topic.name,
        validInquiry(),
      ),
    ).not.toBe('ok');

    expect(
      await produce(
        clientAs('veil-upstream', { password: 'not-the-password' }),
        InquiryCreated.topic.name,
        validInquiry(),
      ),
    ).not.toBe('ok');
  });

  it('lets upstream systems publish inquiries and nothing else: not the audit log, not reading intake', async () => {
    const upstream = clientAs('veil-upstream');
    expect(await produce(upstream, InquiryCreated.topic.name, validInquiry())).toBe('ok');
    expect(await produce(upstream, AuditEvent.topic.name, forgedAuditEvent())).toBe(
      'TOPIC_AUTHORIZATION_FAILED',
    );
    expect(await consume(upstream, InquiryCreated.topic.name, 'upstream.probe')).not.toBe('ok');
  });

  it('lets only the services that audit append to audit.events, and only the intake edge read inquiry.created', async () => {
    for (const principal of ['veil-ingest', 'veil-dsar', 'veil-witness'])
      expect({
        principal,
        result: await produce(clientAs(principal), AuditEvent.topic.name, forgedAuditEvent()),
      }).toEqual({
        principal,
        result: 'TOPIC_AUTHORIZATION_FAILED',
      });
    // the api may read its group's topics, but never the intake topic with PII
    expect(
      await consume(
        clientAs('veil-api'),
        InquiryCreated.topic.name,
        `api.probe-${randomBytes(4).toString('hex')}`,
      ),
    ).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(
      await consume(
        clientAs('veil-vault'),
        InquiryCreated.topic.name,
        `vault.probe-${randomBytes(4).toString('hex')}`,
      ),
    ).not.toBe('ok');
    // outside witnesses follow the signed checkpoints, and nothing else
    expect(
      await consume(
        clientAs('veil-witness'),
        AuditCheckpointSigned.topic.name,
        `witness.probe-${randomBytes(4).toString('hex')}`,
      ),
    ).toBe('ok');
    expect(
      await consume(
        clientAs('veil-witness'),
        AuditEvent.topic.name,
        `witness.probe-${randomBytes(4).toString('hex')}`,
      ),
    ).not.toBe('ok');
  });

  it("holds for Kafka's own Java client too: the upstream principal cannot append to the audit log", async () => {
    await expect(
      produceWithJavaClient(AuditEvent.topic.name, [{ key: 'probe', value: forgedAuditEvent() }], 'none'),
    ).rejects.toThrow(/TopicAuthorizationException|not authorized/i);
  });
});
