import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  adminDatabaseUrl,
  canary,
  createTestSchema,
  createTestTopic,
  piiFreeTopics,
  scanForCanaries,
  testKafka,
} from '../src';

jest.setTimeout(60_000);

describe('the canary scanner', () => {
  it('finds a canary in a table (text or binary), a topic and a log file, names where, and stays silent about clean ones', async () => {
    const leaked = canary('NAME');
    const clean = canary('EMAIL');
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 1);
    const db = await createTestSchema([
      'create table leaky (note text)',
      'create table binary_leak (blob bytea)',
      'create table sealed (blob bytea)',
    ]);
    try {
      await db.dataSource.query('insert into leaky values ($1)', [`customer ${leaked} called`]);
      // plaintext inside a binary column is a leak too; ciphertext (random bytes) is not
      await db.dataSource.query('insert into binary_leak values ($1)', [
        Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(`name=${leaked};`), Buffer.from([255])]),
      ]);
      await db.dataSource.query('insert into sealed values ($1)', [Buffer.from('8f3a9c0d11e2', 'hex')]);
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: topic.name,
        messages: [{ key: 'k', value: JSON.stringify({ note: leaked }) }],
      });
      await producer.disconnect();
      const logs = mkdtempSync(join(tmpdir(), 'veil-canary-'));
      writeFileSync(join(logs, 'svc.log'), `{"msg":"ok"}\n{"msg":"oops ${leaked}"}\n`);

      const hits = await scanForCanaries({
        canaries: [leaked, clean],
        databaseUrl: adminDatabaseUrl(),
        schemas: [db.schema],
        kafka,
        topics: [topic.name],
        logPaths: [logs],
      });
      expect(hits.map((h) => h.where).sort()).toEqual(
        [
          `kafka:${topic.name}@0/0`,
          `log:${join(logs, 'svc.log')}:2`,
          `postgres:${db.schema}.leaky`,
          `postgres:${db.schema}.binary_leak`,
        ].sort(),
      );
      expect(hits.every((h) => h.canary === leaked)).toBe(true);
    } finally {
      await db.drop();
    }
  });

  it('scans every topic but the intake topic and its dead-letter topic by default', () => {
    expect(piiFreeTopics()).not.toContain('inquiry.created');
    expect(piiFreeTopics()).not.toContain('inquiry.created.dlq');
    expect(piiFreeTopics()).toEqual(
      expect.arrayContaining(['inquiry.recorded', 'audit.events', 'pii.redacted.dlq']),
    );
  });
});
