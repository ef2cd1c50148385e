import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createEvent, InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { REPO_ROOT } from '@veil/platform/config';
import { DLQ_HEADERS, toMessage } from '@veil/platform/kafka';
import {
  adminDatabaseUrl,
  adminQuery,
  canary,
  expectEventually,
  scanForCanaries,
  testKafka,
  VaultCaller,
} from '@veil/testing';

import { ApiStack, type HttpAnswer, inquiry } from './api-stack';

jest.setTimeout(300_000);

const REVEALED = ['nameFirst', 'nameLast', 'emailAddress', 'referenceId'] as const;
const REDACTED_MARKER = { redacted: true, available: false };

/** The vault's rows that hold an inquiry's key, ciphertexts or blind indexes. */
async function vaultRows(organizationId: string, inquiryId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of ['data_keys', 'encrypted_fields', 'blind_indexes']) {
    const [row] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from vault.${table} where organization_id = $1 and inquiry_id = $2`,
      [organizationId, inquiryId],
    );
    out[table] = row!.n;
  }
  return out;
}
const NOTHING = { data_keys: 0, encrypted_fields: 0, blind_indexes: 0 };

/** One of Kafka's own tools, through the stack's wrapper (`npm run kafka -- <tool>`). */
function kafkaTool(args: string[], input?: string): string {
  return execFileSync('bash', ['tools/infra.sh', 'kafka', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Whether every partition these groups read has been consumed to its end. */
async function caughtUp(groups: string[]): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    for (const groupId of groups) {
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId })) {
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
        for (const p of partitions)
          expect({ groupId, topic, partition: p.partition, offset: p.offset }).toEqual({
            groupId,
            topic,
            partition: p.partition,
            offset: ends.get(p.partition),
          });
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** PostgreSQL's own client tools, next to the server the local stack runs. */
function pgTool(name: string): string {
  const bin = execFileSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'], {
    encoding: 'utf8',
  }).trim();
  return join(bin, name);
}

describe('redaction', () => {
  let stack: ApiStack;
  let vault: VaultCaller;
  let a: { id: string; adminKey: string };
  let b: { id: string; adminKey: string };
  const startedAt = new Date();

  async function waitCompleted(key: string, redactionId: string): Promise<Record<string, unknown>> {
    return expectEventually(
      async () => {
        const res = await stack.call('GET', `/v1/redactions/${redactionId}`, key);
        expect(res.status).toBe(200);
        expect(res.body.status).toBe('completed');
        return res.body;
      },
      { timeoutMs: 60_000 },
    );
  }

  async function get(org: { adminKey: string }, inquiryId: string): Promise<HttpAnswer> {
    const res = await stack.call('GET', `/v1/inquiries/${inquiryId}`, org.adminKey);
    expect(res.status).toBe(200);
    return res;
  }

  function expectRevealed(res: HttpAnswer, source: InquiryCreatedV1): void {
    const attributes = res.body.attributes as Record<string, unknown>;
    expect(res.body.redactedAt).toBeNull();
    expect(attributes.nameFirst).toBe(source.attributes.nameFirst);
    expect(attributes.emailAddress).toBe(source.attributes.emailAddress);
    expect(attributes.referenceId).toBe(source.referenceId);
  }

  function expectRedacted(res: HttpAnswer): void {
    const attributes = res.body.attributes as Record<string, unknown>;
    expect(res.body.redactedAt).toEqual(expect.any(String));
    expect(Object.keys(attributes).length).toBeGreaterThan(0);
    for (const value of Object.values(attributes)) expect(value).toEqual(REDACTED_MARKER);
  }

  beforeAll(async () => {
    stack = await ApiStack.start();
    vault = new VaultCaller(stack.vault);
    a = await stack.organization();
    b = await stack.organization();
    for (const org of [a, b]) {
      // the key registry picks new keys up within a refresh
      await expectEventually(async () => {
        const put = await stack.call('PUT', '/v1/organization/enabled-attributes', org.adminKey, {
          attributes: REVEALED,
        });
        expect(put.status).toBe(200);
      });
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('redacts one inquiry for good: no key or ciphertext left, the record kept with redactedAt, reveal says redacted, audited', async () => {
    const [target, kept] = [inquiry(canary('R')), inquiry(canary('K'))];
    await stack.inquiries(a.id, a.adminKey, [target, kept]);
    expectRevealed(await get(a, target.inquiryId), target);
    const [stored] = await adminQuery<{ wrapped_key: Buffer; bundle: Buffer }>(
      `select d.wrapped_key, f.bundle from vault.data_keys d join vault.encrypted_fields f using (organization_id, inquiry_id)
        where d.organization_id = $1 and d.inquiry_id = $2`,
      [a.id, target.inquiryId],
    );

    const first = await stack.call('DELETE', `/v1/inquiries/${target.inquiryId}`, a.adminKey);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      id: expect.stringMatching(/^red_[A-Za-z0-9]{20}$/),
      type: 'redaction',
      target: { kind: 'inquiry', inquiryId: target.inquiryId },
      reason: 'api_request',
    });
    // Redacting twice is one redaction.
    const again = await stack.call('DELETE', `/v1/inquiries/${target.inquiryId}`, a.adminKey);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);

    const done = await waitCompleted(a.adminKey, first.body.id as string);
    expect(done).toMatchObject({
      inquiriesRedacted: 1,
      appliedBy: { vault: expect.any(String), ingest: expect.any(String), api: expect.any(String) },
      completedAt: expect.any(String),
    });

    expect(await vaultRows(a.id, target.inquiryId)).toEqual(NOTHING);
    const [ledger] = await adminQuery<{ redaction_id: string; attributes: string[] }>(
      `select redaction_id, attributes from vault.redacted_inquiries where organization_id = $1 and inquiry_id = $2`,
      [a.id, target.inquiryId],
    );
    expect(ledger).toMatchObject({
      redaction_id: first.body.id,
      attributes: expect.arrayContaining(['nameFirst']),
    });

    const after = await get(a, target.inquiryId);
    expectRedacted(after);
    expect(after.body.status).toBe(target.status);
    const [record] = await adminQuery<{ status: string; redacted_at: Date | null }>(
      `select status, redacted_at from ingest.inquiries where organization_id = $1 and inquiry_id = $2`,
      [a.id, target.inquiryId],
    );
    expect(record).toMatchObject({ status: target.status, redacted_at: expect.any(Date) });
    expectRevealed(await get(a, kept.inquiryId), kept);

    // The audit log has the request, the deletion and the completion.
    await expectEventually(async () => {
      const rows = await adminQuery<{ action: string }>(
        `select action from audit_log.entries where organization_id = $1 and action like 'pii.redact%'`,
        [a.id],
      );
      expect(rows.map((r) => r.action).sort()).toEqual(
        ['pii.redacted', 'pii.redaction.completed', 'pii.redaction.requested'].sort(),
      );
    });

    // The canaries are nowhere (every schema, every PII-free topic, every log), nor the key or ciphertext bytes.
    const hits = await scanForCanaries({
      canaries: [
        ...Object.values(target.attributes).flat(),
        target.referenceId!,
        stored!.wrapped_key.toString('hex'),
        stored!.bundle.subarray(0, 48).toString('hex'),
      ],
      databaseUrl: adminDatabaseUrl(),
      kafka: testKafka(),
      since: startedAt,
      logPaths: stack.logFiles(),
    });
    expect(hits).toEqual([]);
  });

  it('redacts every inquiry of a subject and no one else’s: not a lookalike of the same name, not the same reference id in another organization', async () => {
    const reference = `subject-${canary('S')}`;
    const subject = [inquiry(canary('S1')), inquiry(canary('S2'))].map((i) => ({
      ...i,
      referenceId: reference,
    }));
    const sameName = { ...inquiry(canary('L')), attributes: subject[0]!.attributes };
    const otherOrganization = { ...inquiry(canary('O')), referenceId: reference };
    await stack.inquiries(a.id, a.adminKey, [...subject, sameName]);
    await stack.inquiries(b.id, b.adminKey, [otherOrganization]);

    const res = await stack.call('POST', '/v1/redactions', a.adminKey, { referenceId: reference });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ type: 'redaction', target: { kind: 'subject' }, reason: 'api_request' });
    expect(res.text).not.toContain(reference);
    const done = await waitCompleted(a.adminKey, res.body.id as string);
    expect(done.inquiriesRedacted).toBe(2);

    for (const s of subject) {
      expectRedacted(await get(a, s.inquiryId));
      expect(await vaultRows(a.id, s.inquiryId)).toEqual(NOTHING);
    }
    const lookalike = await get(a, sameName.inquiryId);
    expect(lookalike.body.redactedAt).toBeNull();
    expect((lookalike.body.attributes as Record<string, unknown>).nameFirst).toBe(
      subject[0]!.attributes.nameFirst,
    );
    expectRevealed(await get(b, otherOrganization.inquiryId), otherOrganization);

    // the listing shows it, newest first
    const list = await stack.call('GET', '/v1/redactions?pageSize=1', a.adminKey);
    expect(list.status).toBe(200);
    expect((list.body.data as { id: string }[])[0]!.id).toBe(res.body.id);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const next = await stack.call(
      'GET',
      `/v1/redactions?pageSize=1&cursor=${list.body.nextCursor as string}`,
      a.adminKey,
    );
    expect((next.body.data as { id: string }[])[0]!.id).not.toBe(res.body.id);
    // and B sees none of A's redactions
    expect((await stack.call('GET', `/v1/redactions/${res.body.id as string}`, b.adminKey)).status).toBe(404);
  });

  it('keeps a subject under erasure until every service applied it: an inquiry of that subject arriving meanwhile is redacted on arrival', async () => {
    const reference = `late-${canary('LATE')}`;
    const early = { ...inquiry(canary('E')), referenceId: reference };
    const late = { ...inquiry(canary('LT')), referenceId: reference };
    await stack.inquiries(a.id, a.adminKey, [early]);
    await stack.ingest.stop(); // ingest's acknowledgement cannot come: the redaction stays open
    try {
      const res = await stack.call('POST', '/v1/redactions', a.adminKey, { referenceId: reference });
      expect(res.status).toBe(202);
      const redactionId = res.body.id as string;
      await expectEventually(async () => {
        const now = await stack.call('GET', `/v1/redactions/${redactionId}`, a.adminKey);
        expect(now.body).toMatchObject({
          status: 'in_progress',
          inquiriesRedacted: 1,
          appliedBy: { vault: expect.any(String), api: expect.any(String), ingest: null },
        });
      });
      // The late inquiry reaches the vault (as ingest hands it over): nothing is stored.
      const stored = await vault.store([
        {
          organizationId: a.id,
          inquiryId: late.inquiryId,
          values: { referenceId: reference, ...late.attributes },
        },
      ]);
      expect(stored).toMatchObject({
        status: 200,
        body: { results: [{ inquiryId: late.inquiryId, created: false, redacted: true }] },
      });
      expect(await vaultRows(a.id, late.inquiryId)).toEqual(NOTHING);
    } finally {
      stack.ingest.start();
      await stack.ingest.waitReady();
    }
    // Its event arrives too: recorded as redacted from the start; then the redaction completes with both.
    await stack.inquiries(a.id, a.adminKey, [late]);
    expectRedacted(await get(a, late.inquiryId));
    const [list] = (await stack.call('GET', '/v1/redactions?pageSize=1', a.adminKey)).body.data as {
      id: string;
    }[];
    const done = await waitCompleted(a.adminKey, list!.id);
    expect(done.inquiriesRedacted).toBe(2);
  });

  it('keeps an erased subject erased: an event of that person that happened before the erasure is refused even after it completed, a later one is stored', async () => {
    const reference = `erased-${canary('ER')}`;
    const res = await stack.call('POST', '/v1/redactions', a.adminKey, { referenceId: reference });
    const done = await waitCompleted(a.adminKey, res.body.id as string);
    expect(done.inquiriesRedacted).toBe(0); // nothing of that person was here yet
    const before = new Date(Date.parse(done.requestedAt as string) - 60_000).toISOString();
    const after = new Date(Date.now() + 1_000).toISOString();
    const [old, fresh] = [inquiry(canary('OLD')), inquiry(canary('NEW'))];
    const stored = await vault.store([
      {
        organizationId: a.id,
        inquiryId: old.inquiryId,
        occurredAt: before,
        values: { referenceId: reference, ...old.attributes },
      },
      {
        organizationId: a.id,
        inquiryId: fresh.inquiryId,
        occurredAt: after,
        values: { referenceId: reference, ...fresh.attributes },
      },
    ]);
    expect(stored.body.results).toEqual([
      { organizationId: a.id, inquiryId: old.inquiryId, created: false, redacted: true },
      { organizationId: a.id, inquiryId: fresh.inquiryId, created: true, redacted: false },
    ]);
    expect(await vaultRows(a.id, old.inquiryId)).toEqual(NOTHING);
    expect((await vaultRows(a.id, fresh.inquiryId)).data_keys).toBe(1);
  });

  it('stores nothing for a redacted inquiry again: a duplicate event, a late store, counted and audited as suppressed', async () => {
    const target = inquiry(canary('D'));
    await stack.inquiries(a.id, a.adminKey, [target]);
    const res = await stack.call('DELETE', `/v1/inquiries/${target.inquiryId}`, a.adminKey);
    await waitCompleted(a.adminKey, res.body.id as string);

    const suppressedBefore = await suppressedCount();
    const late = await vault.store([
      {
        organizationId: a.id,
        inquiryId: target.inquiryId,
        values: { referenceId: target.referenceId!, ...target.attributes },
      },
    ]);
    expect(late.body).toEqual({
      results: [{ organizationId: a.id, inquiryId: target.inquiryId, created: false, redacted: true }],
    });
    expect(await suppressedCount()).toBe(suppressedBefore + 1);
    await expectEventually(async () => {
      const [row] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries
          where organization_id = $1 and action = 'pii.store_suppressed' and $2 = any(inquiry_ids)`,
        [a.id, target.inquiryId],
      );
      expect(row!.n).toBe(1);
    });
    // a re-sent event (new event id, same inquiry) through the whole intake path
    await stack.inquiries(a.id, a.adminKey, [target]);
    expect(await vaultRows(a.id, target.inquiryId)).toEqual(NOTHING);
    expectRedacted(await get(a, target.inquiryId));

    async function suppressedCount(): Promise<number> {
      const metrics = String((await stack.vault.management('/metrics')).body);
      return Number(/^veil_redacted_store_suppressed_total(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1] ?? 0);
    }
  });

  it('answers a reveal racing a redaction with the whole inquiry or with "redacted", never a part or an error', async () => {
    const target = inquiry(canary('RACE'));
    await stack.inquiries(a.id, a.adminKey, [target]);
    const answers: HttpAnswer[] = [];
    let stop = false;
    const readers = Array.from({ length: 4 }, async () => {
      while (!stop) answers.push(await stack.call('GET', `/v1/inquiries/${target.inquiryId}`, a.adminKey));
    });
    await new Promise((r) => setTimeout(r, 200));
    const redactionId = (await stack.call('DELETE', `/v1/inquiries/${target.inquiryId}`, a.adminKey)).body
      .id as string;
    await waitCompleted(a.adminKey, redactionId);
    stop = true;
    await Promise.all(readers);
    let whole = 0;
    let redacted = 0;
    for (const res of answers) {
      expect(res.status).toBe(200);
      const attributes = res.body.attributes as Record<string, unknown>;
      if (typeof attributes.nameFirst === 'string') {
        expect(attributes).toMatchObject({
          nameFirst: target.attributes.nameFirst,
          nameLast: target.attributes.nameLast,
          emailAddress: target.attributes.emailAddress,
          referenceId: target.referenceId,
        });
        whole++;
      } else {
        for (const name of REVEALED) expect(attributes[name]).toEqual(REDACTED_MARKER);
        redacted++;
      }
    }
    expect(whole).toBeGreaterThan(0);
    expect(redacted).toBeGreaterThan(0);
  });

  it("brings nothing back when every consumer group replays from offset 0 (Kafka's consumer-groups tool) or the intake dead-letter topic is redriven", async () => {
    const [gone, kept] = [inquiry(canary('RP')), inquiry(canary('RK'))];
    const goneEvent = createEvent(InquiryCreated, { organizationId: a.id, data: gone, producer: 'test' });
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic: InquiryCreated.topic.name,
      messages: [toMessage(InquiryCreated, goneEvent)],
    });
    await stack.inquiries(a.id, a.adminKey, [kept]);
    await expectEventually(async () => expect((await get(a, gone.inquiryId)).status).toBe(200));
    // A raw record of `gone` in the intake dead-letter topic, as an earlier fault would have left it.
    const raw = toMessage(InquiryCreated, goneEvent);
    await producer.send({
      topic: InquiryCreated.topic.deadLetter!.name,
      messages: [
        {
          ...raw,
          headers: {
            ...raw.headers,
            [DLQ_HEADERS.originalTopic]: InquiryCreated.topic.name,
            [DLQ_HEADERS.errorCode]: 'vault_unavailable_drill',
          },
        },
      ],
    });
    await producer.disconnect();
    const res = await stack.call('DELETE', `/v1/inquiries/${gone.inquiryId}`, a.adminKey);
    await waitCompleted(a.adminKey, res.body.id as string);
    const [before] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from vault.data_keys where organization_id = $1`,
      [a.id],
    );

    // Replay: the services stopped, every group of theirs back to the first offset, then started again.
    const services = [...stack.apis, stack.ingest, stack.vault, stack.auditLog, stack.retention];
    for (const service of services) await service.stop();
    // Ingest forgets it ever recorded `gone` (as if its database were older): the replayed event
    // goes all the way to the vault, whose ledger refuses it.
    await adminQuery(`delete from ingest.inquiries where organization_id = $1 and inquiry_id = $2`, [
      a.id,
      gone.inquiryId,
    ]);
    await adminQuery(`delete from ingest.kafka_inbox where event_id = $1`, [goneEvent.eventId]);
    const groups = kafkaTool(['consumer-groups', '--list'])
      .split('\n')
      .map((g) => g.trim())
      .filter((g) => /^(ingest|vault|api|audit-log|retention)\.[a-z-]+$/.test(g));
    expect(groups).toEqual(
      expect.arrayContaining([
        'ingest.inquiry-intake',
        'ingest.redactions',
        'vault.redactions',
        'api.redactions',
      ]),
    );
    for (const group of groups)
      kafkaTool([
        'consumer-groups',
        '--reset-offsets',
        '--to-earliest',
        '--all-topics',
        '--group',
        group,
        '--execute',
      ]);
    for (const service of [stack.vault, stack.ingest, stack.auditLog, stack.retention, ...stack.apis])
      service.start();
    for (const service of services) await service.waitReady();
    await expectEventually(() => caughtUp(groups), { timeoutMs: 240_000 });
    await expectNothingBack();
    await expectEventually(async () => {
      const [row] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries
          where organization_id = $1 and action = 'pii.store_suppressed' and $2 = any(inquiry_ids)`,
        [a.id, gone.inquiryId],
      );
      expect(row!.n).toBeGreaterThanOrEqual(1);
    });

    // Redrive: the dead-lettered records of that inquiry, back onto the intake topic with the console tools.
    const dead = kafkaTool([
      'console-consumer',
      '--topic',
      InquiryCreated.topic.deadLetter!.name,
      '--partition',
      '0',
      '--offset',
      'earliest',
      '--timeout-ms',
      '10000',
      '--property',
      'print.key=true',
    ])
      .split('\n')
      .filter((line) => line.includes(gone.inquiryId));
    expect(dead).toHaveLength(1);
    kafkaTool(
      ['console-producer', '--topic', InquiryCreated.topic.name, '--property', 'parse.key=true'],
      `${dead.join('\n')}\n`,
    );
    await expectEventually(() => caughtUp(['ingest.inquiry-intake']), { timeoutMs: 60_000 });
    await expectNothingBack();

    async function expectNothingBack(): Promise<void> {
      expect(await vaultRows(a.id, gone.inquiryId)).toEqual(NOTHING);
      const [after] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from vault.data_keys where organization_id = $1`,
        [a.id],
      );
      expect(after!.n).toBe(before!.n);
      expectRedacted(await get(a, gone.inquiryId));
      expectRevealed(await get(a, kept.inquiryId), kept);
      const [record] = await adminQuery<{ redacted_at: Date | null }>(
        `select redacted_at from ingest.inquiries where organization_id = $1 and inquiry_id = $2`,
        [a.id, gone.inquiryId],
      );
      expect(record!.redacted_at).toEqual(expect.any(Date));
    }
  });

  it('does not bring redacted data back from a database backup taken before the redaction: the vault reconciles from pii.redacted before it is ready', async () => {
    const target = inquiry(canary('BK'));
    await stack.inquiries(a.id, a.adminKey, [target]);
    const tables = [
      'data_keys',
      'encrypted_fields',
      'blind_indexes',
      'redactions',
      'redacted_inquiries',
      'redaction_acks',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'veil-backup-'));
    const dump = join(dir, 'vault.sql');
    try {
      execFileSync(pgTool('pg_dump'), [
        '--data-only',
        ...tables.flatMap((t) => ['--table', `vault.${t}`]),
        '--file',
        dump,
        adminDatabaseUrl(),
      ]);
      const res = await stack.call('DELETE', `/v1/inquiries/${target.inquiryId}`, a.adminKey);
      await waitCompleted(a.adminKey, res.body.id as string);
      expect(await vaultRows(a.id, target.inquiryId)).toEqual(NOTHING);

      // restore the backup over the vault's tables, the vault stopped
      await stack.vault.stop();
      await adminQuery(`truncate ${tables.map((t) => `vault.${t}`).join(', ')}`);
      execFileSync(pgTool('psql'), [
        '--quiet',
        '--set',
        'ON_ERROR_STOP=1',
        '--file',
        dump,
        adminDatabaseUrl(),
      ]);
      expect((await vaultRows(a.id, target.inquiryId)).data_keys).toBe(1); // the backup brought the key back

      stack.vault.start();
      await stack.vault.waitReady();
      expect(stack.vault.logs()).toMatch(/"msg":"redaction ledger reconciled".*"keysShredded":[1-9]/);
      expect(await vaultRows(a.id, target.inquiryId)).toEqual(NOTHING);
      expectRedacted(await get(a, target.inquiryId));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      if (!stack.vault.running) {
        stack.vault.start();
        await stack.vault.waitReady();
      }
    }
  });
});
