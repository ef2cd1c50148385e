import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  AuditEvent,
  type AuditEventV1,
  createEvent,
  type EventEnvelope,
  AuditCheckpointSigned,
  type AuditCheckpointSignedV1,
  checkInclusionProof,
  decodeEvent,
  leafHash,
  OPERATOR_CHAIN,
  verifyCheckpointSignature,
} from '@veil/contracts';
import { createKmsClient } from '@veil/platform/crypto';
import { createServiceDataSource } from '@veil/platform/database';
import { toMessage } from '@veil/platform/kafka';
import { REPO_ROOT } from '@veil/platform/config';
import { serviceEntry, serviceEnvironment } from '@veil/service-catalog';
import {
  adminDatabaseUrl,
  adminQuery,
  expectEventually,
  freePort,
  readTopic,
  ServiceProcess,
  testKafka,
  testOrganizationId,
} from '@veil/testing';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

import { CheckpointSigner } from '../src/checkpoints/checkpoint-signer';
import { MerkleLogRepository } from '../src/log/merkle-log.repository';
import { ProofService } from '../src/query/proof.service';
import { LogVerifier } from '../src/verify/log-verifier';

jest.setTimeout(300_000);

function auditEvent(organizationId: string, i: number, actorType: 'api_key' | 'operator' = 'api_key') {
  const data: AuditEventV1 = {
    action: 'pii.reveal',
    actor: { type: actorType, id: actorType === 'operator' ? 'op_test' : 'key_test' },
    outcome: 'allowed',
    targets: { inquiryIds: [`inq_${i}`], attributes: ['nameFirst'] },
    purpose: `test ${i}`,
    requestId: `req_${organizationId}_${i}`,
  };
  return createEvent(AuditEvent, { organizationId, data, producer: 'test' });
}

async function publish(events: EventEnvelope<AuditEventV1>[]): Promise<void> {
  const producer = testKafka().producer();
  await producer.connect();
  for (let i = 0; i < events.length; i += 1_000) {
    await producer.send({
      topic: AuditEvent.topic.name,
      messages: events.slice(i, i + 1_000).map((e) => toMessage(AuditEvent, e)),
    });
  }
  await producer.disconnect();
}

/** Waits (with a deadline) until the service's consumer group has committed everything published so far. */
async function consumedToTheEnd(): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(AuditEvent.topic.name);
    await expectEventually(async () => {
      const [committed] = await admin.fetchOffsets({
        groupId: 'audit-log.append',
        topics: [AuditEvent.topic.name],
      });
      for (const end of ends) {
        if (end.high === end.low) continue; // nothing to consume, so nothing committed either
        const at = committed!.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
        expect(BigInt(at)).toBeGreaterThanOrEqual(BigInt(end.high));
      }
    });
  } finally {
    await admin.disconnect();
  }
}

async function chainSize(chain: string): Promise<number> {
  const [row] = await adminQuery<{ n: number }>(
    `select count(*)::int as n from audit_log.entries where chain_id = $1`,
    [chain],
  );
  return row!.n;
}

/** Tampering as someone with superuser access would: triggers off for the session. */
async function asSuperuser(statements: [string, unknown[]?][]): Promise<void> {
  const client = new Client({ connectionString: adminDatabaseUrl() });
  await client.connect();
  try {
    await client.query('set session_replication_role = replica');
    await client.query('set search_path = audit_log');
    for (const [sql, params] of statements) await client.query(sql, params ?? []);
  } finally {
    await client.end();
  }
}

interface Head {
  size: string;
  peaks: Buffer[];
  root_hash: Buffer;
}

/** The head of a chain at `size` (once checkpointed there), to roll the chain back to later. */
async function headAt(chain: string, size: number): Promise<Head> {
  await expectEventually(async () => {
    const [row] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from audit_log.checkpoints where chain_id = $1 and tree_size = $2`,
      [chain, size],
    );
    expect(row!.n).toBe(1);
  });
  const [head] = await adminQuery<Head>(
    `select size, peaks, root_hash from audit_log.chains where chain_id = $1`,
    [chain],
  );
  expect(Number(head!.size)).toBe(size);
  return head!;
}

async function exportChain(chain: string, file: string): Promise<void> {
  const run = spawnSync(
    process.execPath,
    ['-r', '@swc-node/register', 'tools/audit-log.ts', 'export', chain, file],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    },
  );
  expect(run.stderr).toContain('exported');
  expect(run.status).toBe(0);
}

function standaloneVerify(publicKeyFile: string, chain: string, file: string, known: string[] = []) {
  return spawnSync(
    process.execPath,
    [
      '-r',
      '@swc-node/register',
      'tools/verify-audit-export.ts',
      '--public-key',
      publicKeyFile,
      '--chain',
      chain,
      ...known.flatMap((k) => ['--known', k]),
      file,
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
}

describe('audit log', () => {
  let service: ServiceProcess;
  let dataSource: DataSource;
  let verifier: LogVerifier;
  const orgs = Array.from({ length: 9 }, () => testOrganizationId());
  const rolledBack = orgs[7]!;
  let olderHead: Head;
  const chainOf = (org: string) => `org:${org}`;
  const startedAt = new Date();

  beforeAll(async () => {
    service = new ServiceProcess('audit-log', {
      overrides: {
        PORT: String(await freePort()),
        AUDIT_CHECKPOINT_EVERY: '100',
        AUDIT_CHECKPOINT_INTERVAL_MS: '300',
      },
    });
    service.start();
    await service.waitReady();
    const entry = serviceEntry('audit-log');
    const env = serviceEnvironment(entry, process.env);
    dataSource = createServiceDataSource({
      url: env.DATABASE_URL!,
      schema: entry.schema,
      applicationName: 'veil-test',
      poolSize: 2,
    });
    await dataSource.initialize();
    const kms = createKmsClient({
      region: process.env.AWS_REGION!,
      keyAlias: 'alias/veil-audit-signing',
      endpoint: process.env.KMS_ENDPOINT!,
    });
    const { pem } = await new CheckpointSigner(kms, 'alias/veil-audit-signing').publicKeyPem();
    kms.destroy();
    verifier = new LogVerifier(dataSource, pem);

    // 300 events per organization, in three rounds, so checkpoints fall along the way
    for (let round = 0; round < 3; round++) {
      await publish(
        orgs.flatMap((org) => Array.from({ length: 100 }, (_, i) => auditEvent(org, round * 100 + i))),
      );
      await expectEventually(
        async () => {
          for (const org of orgs) expect(await chainSize(chainOf(org))).toBe((round + 1) * 100);
        },
        { timeoutMs: 60_000 },
      );
      if (round === 1) olderHead = await headAt(chainOf(rolledBack), 200);
    }
    await expectEventually(
      async () => {
        const rows = await adminQuery<{ chain_id: string }>(
          `select chain_id from audit_log.checkpoints where chain_id = any($1::text[]) and tree_size = 300`,
          [orgs.map(chainOf)],
        );
        expect(rows).toHaveLength(orgs.length);
      },
      { timeoutMs: 30_000 },
    );
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await service?.stop();
  });

  it('appends each event once to its organization chain, checkpoints it with a KMS signature, and verifies', async () => {
    const again = Array.from({ length: 20 }, (_, i) => auditEvent(orgs[0]!, i));
    const [first] = await adminQuery<{ event_id: string }>(
      `select event_id from audit_log.entries where chain_id = $1 and seq = 0`,
      [chainOf(orgs[0]!)],
    );
    // a replayed event (same id) is not appended twice
    await publish([{ ...again[0]!, eventId: first!.event_id }]);
    await consumedToTheEnd();
    expect(await chainSize(chainOf(orgs[0]!))).toBe(300);

    const checkpoints = await adminQuery<{ tree_size: string }>(
      `select tree_size from audit_log.checkpoints where chain_id = $1 order by tree_size`,
      [chainOf(orgs[0]!)],
    );
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    const report = await verifier.verifyAll(orgs.map(chainOf));
    expect(report.chains.map((c) => c.problem)).toEqual(orgs.map(() => undefined));
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(300 * orgs.length);

    const publicKey = (await service.get('/v1/audit-log/public-key')).body as { publicKeyPem: string };
    expect(publicKey.publicKeyPem).toContain('BEGIN PUBLIC KEY');
  });

  it('hands every signed checkpoint to the witness topic, where an outsider can check it with the public key', async () => {
    const chain = chainOf(orgs[0]!);
    const stored = await adminQuery<{ tree_size: string }>(
      `select tree_size from audit_log.checkpoints where chain_id = $1 order by tree_size`,
      [chain],
    );
    expect(stored.length).toBeGreaterThan(0);
    const publicKeyPem = ((await service.get('/v1/audit-log/public-key')).body as { publicKeyPem: string })
      .publicKeyPem;
    const witnessed = await expectEventually(async () => {
      const records = await readTopic(testKafka(), AuditCheckpointSigned.topic.name, { since: startedAt });
      const mine = records
        .map((r) => decodeEvent([AuditCheckpointSigned], r.value))
        .flatMap((d) => (d.ok ? [d.event as EventEnvelope<AuditCheckpointSignedV1>] : []))
        .filter((e) => e.data.chain === chain);
      expect(mine.map((e) => e.data.treeSize).sort((x, y) => x - y)).toEqual(
        stored.map((c) => Number(c.tree_size)),
      );
      return mine;
    });
    for (const { organizationId, data } of witnessed) {
      expect(organizationId).toBe(orgs[0]);
      expect(verifyCheckpointSignature(data, publicKeyPem)).toBe(true);
    }
  });

  it('refuses updates, deletes, truncation and DDL: the role owns nothing append-only and lacks the grants, and a trigger stops everyone else', async () => {
    const chain = chainOf(orgs[0]!);
    // the service's role owns none of it, so it cannot undo any of that either
    for (const ddl of [
      `alter table entries disable trigger all`,
      `drop trigger entries_append_only on entries`,
      `create or replace function refuse_change() returns trigger language plpgsql as $$ begin return new; end $$`,
      `drop table checkpoints`,
      `alter table nodes owner to veil_audit_log`,
    ]) {
      await expect(dataSource.query(ddl)).rejects.toThrow(/must be owner|permission denied/);
    }
    await dataSource.query(`grant update, delete on entries to veil_audit_log`); // a warning, not a grant
    const [grants] = await adminQuery<{ update: boolean; delete: boolean; insert: boolean }>(
      `select has_table_privilege('veil_audit_log', 'audit_log.entries', 'update') as update,
              has_table_privilege('veil_audit_log', 'audit_log.entries', 'delete') as delete,
              has_table_privilege('veil_audit_log', 'audit_log.entries', 'insert') as insert`,
    );
    expect(grants).toEqual({ update: false, delete: false, insert: true });
    await expect(
      dataSource.query(`update entries set outcome = 'denied' where chain_id = $1`, [chain]),
    ).rejects.toThrow(/permission denied/);
    await expect(dataSource.query(`delete from checkpoints where chain_id = $1`, [chain])).rejects.toThrow(
      /permission denied/,
    );
    await expect(
      adminQuery(`update audit_log.entries set outcome = 'denied' where chain_id = $1`, [chain]),
    ).rejects.toThrow(/append-only/);
    await expect(adminQuery(`delete from audit_log.nodes where chain_id = $1`, [chain])).rejects.toThrow(
      /append-only/,
    );
    await expect(adminQuery(`truncate audit_log.checkpoints cascade`)).rejects.toThrow(/append-only/);
  });

  it('catches every database-level edit and names the first bad entry or the broken checkpoint', async () => {
    const relabeled = chainOf(orgs[8]!);
    const [control, changed, rehashed, deleted, swapped, inserted, truncated] = orgs.map(chainOf) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const rehash = `leaf_hash = sha256('\\x00'::bytea || convert_to(entry, 'UTF8'))`;
    await asSuperuser([
      // one field changed, in the column and the logged entry
      [
        `update entries set outcome = 'denied', entry = replace(entry, '"outcome":"allowed"', '"outcome":"denied"')
          where chain_id = $1 and seq = 150`,
        [changed],
      ],
      // the same, with the leaf hash recomputed to match
      [
        `update entries set outcome = 'denied', entry = replace(entry, '"outcome":"allowed"', '"outcome":"denied"')
          where chain_id = $1 and seq = 150`,
        [rehashed],
      ],
      [`update entries set ${rehash} where chain_id = $1 and seq = 150`, [rehashed]],
      // one entry deleted
      [`delete from entries where chain_id = $1 and seq = 120`, [deleted]],
      // two entries swapped
      [`update entries set seq = 1000000 where chain_id = $1 and seq = 50`, [swapped]],
      [`update entries set seq = 50 where chain_id = $1 and seq = 60`, [swapped]],
      [`update entries set seq = 60 where chain_id = $1 and seq = 1000000`, [swapped]],
      // one entry inserted at 100, the rest moved up
      [`update entries set seq = seq + 1000000 where chain_id = $1 and seq >= 100`, [inserted]],
      [`update entries set seq = seq - 999999 where chain_id = $1 and seq >= 1000000`, [inserted]],
      [
        `insert into entries (chain_id, seq, event_id, organization_id, action, actor_type, actor_id, outcome,
                              inquiry_ids, subject_refs, request_id, occurred_at, entry, leaf_hash)
         select chain_id, 100, $2, organization_id, action, actor_type, actor_id, outcome, inquiry_ids,
                subject_refs, request_id, occurred_at,
                replace(replace(entry, '"seq":99', '"seq":100'), event_id, $2), leaf_hash
           from entries where chain_id = $1 and seq = 99`,
        [inserted, `forged-${inserted}`],
      ],
      [`update entries set ${rehash} where chain_id = $1 and seq = 100`, [inserted]],
      // the last 100 entries cut off
      [`delete from entries where chain_id = $1 and seq >= 200`, [truncated]],
      // an indexed column relabelled (the entry shown to another organization), the entry untouched
      [`update entries set organization_id = $2 where chain_id = $1 and seq = 75`, [relabeled, orgs[0]]],
    ]);

    const report = await verifier.verifyAll(orgs.map(chainOf));
    const problem = (chain: string) => report.chains.find((c) => c.chain === chain)!.problem;
    expect(report.ok).toBe(false);
    expect(problem(control)).toBeUndefined();
    expect(problem(changed)).toMatchObject({ kind: 'leaf_hash_mismatch', seq: 150 });
    expect(problem(rehashed)).toMatchObject({ kind: 'checkpoint_root_mismatch' });
    expect(problem(rehashed)!.checkpointSize).toBeGreaterThan(150);
    expect(problem(deleted)).toMatchObject({ kind: 'missing_entry', seq: 120 });
    expect(problem(swapped)).toMatchObject({ kind: 'entry_misplaced', seq: 50 });
    expect(problem(inserted)).toMatchObject({ kind: 'entry_misplaced', seq: 101 });
    expect(problem(truncated)).toMatchObject({
      kind: 'checkpoint_beyond_log',
      checkpointSize: 300,
      seq: 200,
    });
    expect(problem(relabeled)).toMatchObject({ kind: 'column_mismatch', seq: 75 });
    expect(problem(relabeled)!.message).toContain('organization_id');

    // the command says the same, with exit status 1
    const cli = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'tools/audit-log.ts', 'verify', changed],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('entry 150: its content does not match its leaf hash');
    const honest = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'tools/audit-log.ts', 'verify', control],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    expect(honest.stderr).toContain('audit log verifies: 300 entries in 1 chains');
    expect(honest.status).toBe(0);
  });

  it('lets an outsider verify an export with the public key alone, and catches tampered and rolled-back exports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'veil-audit-'));
    const publicKeyFile = join(dir, 'public-key.pem');
    writeFileSync(
      publicKeyFile,
      ((await service.get('/v1/audit-log/public-key')).body as { publicKeyPem: string }).publicKeyPem,
    );
    const honest = join(dir, 'honest.jsonl');
    await exportChain(chainOf(orgs[0]!), honest);
    // an operator's export is itself audited, in the operator chain, visible to the organization
    await expectEventually(async () => {
      const [logged] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries
          where chain_id = 'operator' and organization_id = $1 and action = 'audit.chain.exported'
            and actor_type = 'operator'`,
        [orgs[0]],
      );
      expect(logged!.n).toBe(1);
    });
    const ok = standaloneVerify(publicKeyFile, chainOf(orgs[0]!), honest);
    expect(ok.stdout).toContain(`verified: ${chainOf(orgs[0]!)}: 300 entries`);
    expect(ok.status).toBe(0);

    // one byte of one exported entry changed
    const lines = readFileSync(honest, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"seq":42,'));
    const edited = join(dir, 'edited.jsonl');
    writeFileSync(edited, lines.map((l, i) => (i === at ? l.replace('allowed', 'denied') : l)).join('\n'));
    const bad = standaloneVerify(publicKeyFile, chainOf(orgs[0]!), edited);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('entry 42: its content does not match its leaf hash');
    // the same edit with the exported leaf hash recomputed: the signed root still catches it
    const rehashed = join(dir, 'rehashed.jsonl');
    writeFileSync(
      rehashed,
      lines
        .map((l, i) => {
          if (i !== at) return l;
          const line = JSON.parse(l.replace('allowed', 'denied')) as { entry: string };
          return JSON.stringify({ ...line, leafHash: leafHash(line.entry).toString('hex') });
        })
        .join('\n'),
    );
    const resigned = standaloneVerify(publicKeyFile, chainOf(orgs[0]!), rehashed);
    expect(resigned.status).toBe(1);
    expect(resigned.stderr).toContain('checkpoint at size');

    // a signature that is not Veil's
    const forgedKey = join(dir, 'other-key.pem');
    writeFileSync(
      forgedKey,
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    expect(standaloneVerify(forgedKey, chainOf(orgs[0]!), honest).stderr).toContain(
      'the signature does not verify',
    );

    // the database rolled back to an older copy of the chain: consistent in itself, so only the
    // checkpoints an auditor kept from before can tell
    const chain = chainOf(rolledBack);
    const before = join(dir, 'before.jsonl');
    await exportChain(chain, before);
    await asSuperuser([
      [`delete from entries where chain_id = $1 and seq >= 200`, [chain]],
      [`delete from nodes where chain_id = $1 and (idx + 1) * (1::bigint << level) > 200`, [chain]],
      [`delete from checkpoints where chain_id = $1 and tree_size > 200`, [chain]],
      [
        `update chains set size = $2, peaks = $3, root_hash = $4 where chain_id = $1`,
        [chain, olderHead.size, olderHead.peaks, olderHead.root_hash],
      ],
    ]);
    expect((await verifier.verifyChain(chain)).problem).toBeUndefined();
    const after = join(dir, 'after.jsonl');
    await exportChain(chain, after);
    expect(standaloneVerify(publicKeyFile, chain, after).status).toBe(0);
    const caught = standaloneVerify(publicKeyFile, chain, after, [before]);
    expect(caught.status).toBe(1);
    expect(caught.stderr).toContain(
      'checkpoint at size 300 covers entries the log no longer holds (it ends at 200)',
    );
  });

  it('never forks one chain under concurrent appenders: 10,000 operator events across three replicas', async () => {
    const replicas = [service];
    for (let i = 0; i < 2; i++) {
      const replica = new ServiceProcess('audit-log', {
        overrides: {
          PORT: String(await freePort()),
          AUDIT_CHECKPOINT_EVERY: '1000',
          AUDIT_CHECKPOINT_INTERVAL_MS: '500',
        },
      });
      replica.start();
      replicas.push(replica);
    }
    try {
      await Promise.all(replicas.map((r) => r.waitReady()));
      const before = await chainSize(OPERATOR_CHAIN);
      // operator actions of many organizations: spread over every partition, so every replica appends
      const events = Array.from({ length: 10_000 }, (_, i) =>
        auditEvent(
          `org_ops_${createHash('sha256').update(String(i)).digest('hex').slice(0, 8)}`,
          i,
          'operator',
        ),
      );
      await publish(events);
      await expectEventually(async () => expect(await chainSize(OPERATOR_CHAIN)).toBe(before + 10_000), {
        timeoutMs: 180_000,
      });
      const [counts] = await adminQuery<{ n: number; distinct_events: number; max_seq: number }>(
        `select count(*)::int as n, count(distinct event_id)::int as distinct_events, max(seq)::int as max_seq
           from audit_log.entries where chain_id = $1`,
        [OPERATOR_CHAIN],
      );
      expect(counts).toEqual({
        n: before + 10_000,
        distinct_events: before + 10_000,
        max_seq: before + 10_000 - 1,
      });
      const mine = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries where chain_id = $1 and event_id = any($2::text[])`,
        [OPERATOR_CHAIN, events.map((e) => e.eventId)],
      );
      expect(mine[0]!.n).toBe(10_000);
      const report = await verifier.verifyAll([OPERATOR_CHAIN]);
      expect(report.chains[0]!.problem).toBeUndefined();
    } finally {
      await Promise.all(replicas.slice(1).map((r) => r.stop()));
    }
  });
  it('erases entries past retention but keeps their place: chains, proofs and exports still verify', async () => {
    const org = testOrganizationId();
    const chain = chainOf(org);
    const longAgo = new Date(Date.now() - 11 * 365 * 86_400_000).toISOString();
    // 150 entries appended, and checkpointed, eleven years ago: appended through the service's own
    // code with their checkpoint signed in the same transaction (so no fresh one covers them),
    // then dated back as the database clock would have dated them
    const kms = createKmsClient({
      region: process.env.AWS_REGION!,
      keyAlias: 'alias/veil-audit-signing',
      endpoint: process.env.KMS_ENDPOINT!,
    });
    await dataSource.transaction(async (tx) => {
      await new MerkleLogRepository().append(
        tx,
        Array.from({ length: 150 }, (_, i) => {
          const e = { ...auditEvent(org, i), occurredAt: longAgo };
          return {
            eventId: e.eventId,
            organizationId: org,
            occurredAt: longAgo,
            producer: 'test',
            event: e.data,
          };
        }),
      );
      const [head] = (await tx.query(`select root_hash from chains where chain_id = $1`, [chain])) as {
        root_hash: Buffer;
      }[];
      const signed = await new CheckpointSigner(kms, 'alias/veil-audit-signing').sign({
        chain,
        treeSize: 150,
        rootHash: head!.root_hash.toString('hex'),
        signedAt: longAgo,
      });
      await tx.query(
        `insert into checkpoints (chain_id, tree_size, root_hash, signed_at, key_id, algorithm, signature)
         values ($1, 150, $2, $3, $4, $5, $6)`,
        [
          chain,
          head!.root_hash,
          longAgo,
          signed.keyId,
          signed.algorithm,
          Buffer.from(signed.signature, 'base64'),
        ],
      );
    });
    kms.destroy();
    await asSuperuser([[`update entries set appended_at = $2 where chain_id = $1`, [chain, longAgo]]]);
    await publish(Array.from({ length: 50 }, (_, i) => auditEvent(org, 150 + i)));
    await expectEventually(async () => expect(await chainSize(chain)).toBe(200), { timeoutMs: 60_000 });
    await headAt(chain, 200);
    const erase = `update entries set entry = null, action = null, actor_type = null, actor_id = null,
      outcome = null, request_id = null, inquiry_ids = '{}', subject_refs = '{}', pruned_at = now()
      where chain_id = $1 and seq = 0`;
    // the service's role may not; nobody may without naming a cutoff, or with one under 30 days back
    await expect(dataSource.query(erase, [chain])).rejects.toThrow(/permission denied/);
    await expect(
      adminQuery(erase.replace('update entries', 'update audit_log.entries'), [chain]),
    ).rejects.toThrow(/append-only/);
    const client = new Client({ connectionString: adminDatabaseUrl() });
    await client.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('audit_log.prune_before', $1, true)`, [
        new Date(Date.now() - 10 * 86_400_000).toISOString(),
      ]);
      await expect(
        client.query(erase.replace('update entries', 'update audit_log.entries'), [chain]),
      ).rejects.toThrow(/append-only/);
    } finally {
      await client.query('rollback');
      await client.end();
    }

    const run = spawnSync(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'tools/audit-log.ts',
        'prune',
        '--reason',
        'retention policy',
        '--older-than-days',
        '3650',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(run.stderr).toMatch(/pruned \d+ entries older than 3650 days/);
    expect(run.status).toBe(0);
    const rows = await adminQuery<{ pruned: number; kept: number; hashes: number }>(
      `select count(*) filter (where entry is null and pruned_at is not null)::int as pruned,
              count(*) filter (where entry is not null)::int as kept, count(leaf_hash)::int as hashes
         from audit_log.entries where chain_id = $1`,
      [chain],
    );
    expect(rows[0]).toEqual({ pruned: 150, kept: 50, hashes: 200 });

    // the chain still verifies against its signed checkpoints, and later entries still prove
    const report = await verifier.verifyChain(chain);
    expect(report).toMatchObject({ entries: 200, prunedEntries: 150 });
    expect(report.problem).toBeUndefined();
    const proof = await new ProofService(dataSource).inclusion(chain, 180);
    const [kept] = await adminQuery<{ entry: string }>(
      `select entry from audit_log.entries where chain_id = $1 and seq = 180`,
      [chain],
    );
    const publicKeyPem = ((await service.get('/v1/audit-log/public-key')).body as { publicKeyPem: string })
      .publicKeyPem;
    expect(checkInclusionProof(kept!.entry, proof, publicKeyPem)).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'veil-audit-retention-'));
    const publicKeyFile = join(dir, 'public-key.pem');
    writeFileSync(publicKeyFile, publicKeyPem);
    const exported = join(dir, 'export.jsonl');
    await exportChain(chain, exported);
    const outsider = standaloneVerify(publicKeyFile, chain, exported);
    expect(outsider.stdout).toContain(`verified: ${chain}: 200 entries (150 past retention)`);
    expect(outsider.status).toBe(0);

    // the prune itself is an audited operator action, visible to the organization
    await expectEventually(async () => {
      const [logged] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries
          where chain_id = 'operator' and organization_id = $1 and action = 'audit.entries.pruned'`,
        [org],
      );
      expect(logged!.n).toBe(1);
    });

    // an entry erased before its time (no checkpoint that old covers it) is named, here and outside
    await asSuperuser([
      [
        `update entries set entry = null, action = null, actor_type = null, actor_id = null, outcome = null,
                request_id = null, inquiry_ids = '{}', subject_refs = '{}', pruned_at = now()
          where chain_id = $1 and seq = 180`,
        [chain],
      ],
    ]);
    expect((await verifier.verifyChain(chain)).problem).toMatchObject({ kind: 'entry_erased', seq: 180 });
    await exportChain(chain, exported);
    const erasedTooSoon = standaloneVerify(publicKeyFile, chain, exported);
    expect(erasedTooSoon.stderr).toContain('entry 180 was erased');
    expect(erasedTooSoon.status).toBe(1);

    // a leaf hash kept for an erased entry still cannot be changed unseen
    await asSuperuser([
      [`update entries set leaf_hash = sha256('forged') where chain_id = $1 and seq = 10`, [chain]],
    ]);
    expect((await verifier.verifyChain(chain)).problem).toMatchObject({ kind: 'checkpoint_root_mismatch' });
  });

  it('is not ready while an audit event it dead-lettered is unresolved, and counts it; an operator resolves it', async () => {
    const producer = testKafka().producer();
    await producer.connect();
    await producer.send({
      topic: AuditEvent.topic.name,
      messages: [{ key: 'org_forged', value: '{"not": "an audit event"' }],
    });
    await producer.disconnect();
    await expectEventually(async () => {
      const ready = await service.management('/health/ready');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body)).toContain('audit-trail');
    });
    const metrics = String((await service.management('/metrics')).body);
    expect((await service.get('/health/ready')).body).toEqual({ status: 'not_ready' }); // no details on the main port
    expect(metrics).toMatch(/veil_must_deliver_stuck_records\{[^}]*where="dead_letter"[^}]*\} [1-9]/);
    const listed = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', 'tools/audit-log.ts', 'dead-letters'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    expect(listed.stdout).toContain('audit.events partition');
    expect(listed.stdout).toContain('malformed_json');
    const resolved = spawnSync(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        'tools/audit-log.ts',
        'dead-letters',
        '--resolve',
        '--reason',
        'forged record, not an audit event',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(resolved.status).toBe(0);
    expect(resolved.stderr).toMatch(/resolved [1-9]\d* dead-lettered audit record/);
    await service.waitReady();
    await expectEventually(async () => {
      const [row] = await adminQuery<{ n: number }>(
        `select count(*)::int as n from audit_log.entries where chain_id = 'operator' and action = 'audit.dead_letters.resolved'
            and appended_at >= $1`,
        [startedAt],
      );
      expect(row!.n).toBeGreaterThanOrEqual(1);
    });
  });
});
