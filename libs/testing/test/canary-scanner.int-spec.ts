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
  it('finds a canary in a table, a topic and a log file, names where, and stays silent about clean ones', async () => {
    const leaked = canary('NAME');
    const clean = canary('EMAIL');
    const kafka = testKafka();
    const topic = await createTestTopic(kafka, 1);
    const db = await createTestSchema(['create table leaky (note text)']);
    try {
      await db.dataSource.query('insert into leaky values ($1)', [`customer ${leaked} called`]);
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
        [`kafka:${topic.name}@0/0`, `log:${join(logs, 'svc.log')}:2`, `postgres:${db.schema}.leaky`].sort(),
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
