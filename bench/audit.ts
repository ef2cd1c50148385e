/**
 * npm run bench -- audit
 *
 * The audit log, measured beside its baseline in the same run:
 *   1. appends: BENCH_AUDIT_EVENTS audit events (default 200,000) for BENCH_AUDIT_ORGS organizations
 *      (2 % operator actions) are published to `audit.events` while the service is stopped; then
 *        - baseline: a bare kafkajs consumer reads the same records (same decoding and validation)
 *          and inserts the same rows into a plain table with the same indexes, without hashing,
 *          chain heads or stored subtrees;
 *        - Veil: the audit-log service starts and drains the backlog into its Merkle chains
 *          (hashes, subtrees, chain heads, signed checkpoints);
 *      each timed from its first row to its last, BENCH_ROUNDS rounds, medians;
 *   2. full verification (the `npm run audit -- verify` code) of the last round's chains: entries/s;
 *   3. inclusion proofs in a chain of BENCH_PROOF_TREE entries (default 10^6; built once through the
 *      service's append code and kept for later runs), once autovacuum has settled after the
 *      appends: generation p50/p99 in process and through the service's HTTP API, path length vs
 *      log2(n), sampled proofs checked.
 * Results: bench/results/audit-<time>.json.
 */
import { randomBytes } from 'node:crypto';

import {
  type AuditLogConfig,
  Checkpointer,
  CheckpointSigner,
  LogVerifier,
  MerkleLogRepository,
  openAuditLog,
  ProofService,
} from '@veil/audit-log/operator';
import {
  AuditEvent,
  type AuditEventV1,
  AuditLogApi,
  canonicalJson,
  checkInclusionProof,
  createEvent,
  decodeEvent,
  OPERATOR_CHAIN,
  type RequestOf,
} from '@veil/contracts';
import { loadInfraEnv } from '@veil/platform/config';
import { createKafkaClient, EventPublisher, OutboxWriter, toMessage } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { adminQuery, freePort, type ServiceProcess } from '@veil/testing';
import type { Kafka } from 'kafkajs';
import type { DataSource } from 'typeorm';

import {
  benchService,
  cpuSecondsByComponent,
  median,
  peakRssMb,
  percentile,
  runBenchmark,
  writeResults,
} from './lib';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 200_000);
const ORGS = Number(process.env.BENCH_AUDIT_ORGS ?? 24);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROOF_TREE = Number(process.env.BENCH_PROOF_TREE ?? 1_000_000);
const PROOFS = Number(process.env.BENCH_PROOFS ?? 2_000);
const TOPIC = AuditEvent.topic.name;
const say = (line: string) => process.stdout.write(`${line}\n`);

function auditEvent(organizationId: string, i: number) {
  const operator = i % 50 === 0;
  const data: AuditEventV1 = {
    action: i % 10 === 0 ? 'access.denied' : 'pii.reveal',
    actor: operator ? { type: 'operator', id: 'op_bench' } : { type: 'api_key', id: `key_${i % 7}` },
    outcome: i % 10 === 0 ? 'denied' : 'allowed',
    targets: { inquiryIds: [`inq_${i}`], attributes: ['nameFirst', 'nameLast', 'birthdate'] },
    purpose: 'customer API: GET /v1/inquiries/{inquiryId}',
    requestId: `req_${randomBytes(8).toString('hex')}`,
  };
  return createEvent(AuditEvent, { organizationId, data, producer: 'bench' });
}

/** Publishes one round's events; returns the topic's end offsets from before, where the round starts. */
async function publishRound(kafka: Kafka, orgs: string[]): Promise<{ partition: number; offset: string }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const start = (await admin.fetchTopicOffsets(TOPIC)).map((p) => ({
    partition: p.partition,
    offset: p.high,
  }));
  await admin.disconnect();
  const publisher = new EventPublisher(kafka, 'bench');
  for (let i = 0; i < EVENTS; i += 2_000) {
    const n = Math.min(2_000, EVENTS - i);
    await publisher.send(
      TOPIC,
      Array.from({ length: n }, (_, j) =>
        toMessage(AuditEvent, auditEvent(orgs[(i + j) % orgs.length]!, i + j)),
      ),
    );
  }
  await publisher.disconnect();
  return start;
}

/** The baseline table: the entries' columns and indexes, no hashes, no chain, no subtrees. */
async function createPlainTable(): Promise<void> {
  await adminQuery(`create schema if not exists bench`);
  await adminQuery(`drop table if exists bench.audit_plain`);
  await adminQuery(`
    create table bench.audit_plain (
      event_id text primary key,
      organization_id text not null,
      action text not null,
      actor_type text not null,
      actor_id text not null,
      outcome text not null,
      inquiry_ids text[] not null default '{}',
      subject_refs text[] not null default '{}',
      request_id text,
      occurred_at timestamptz not null,
      appended_at timestamptz not null default now(),
      entry text not null
    )`);
  await adminQuery(`create index on bench.audit_plain (organization_id, occurred_at)`);
  await adminQuery(`create index on bench.audit_plain (organization_id, actor_id, occurred_at)`);
  await adminQuery(`create index on bench.audit_plain (organization_id, action, occurred_at)`);
  await adminQuery(`create index on bench.audit_plain using gin (inquiry_ids)`);
  await adminQuery(`create index on bench.audit_plain using gin (subject_refs)`);
  // written through the audit-log service's own role and connection settings, like its appends
  await adminQuery(`grant usage on schema bench to veil_audit_log`);
  await adminQuery(`grant select, insert on bench.audit_plain to veil_audit_log`);
}

/** Baseline: a bare consumer from the round's start offsets, inserting each batch in one statement. */
async function plainInserts(
  kafka: Kafka,
  dataSource: DataSource,
  start: { partition: number; offset: string }[],
  round: number,
): Promise<{ rate: number; cpu: Record<string, number> }> {
  const groupId = `bench-audit-plain-${Date.now()}-${round}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.setOffsets({ groupId, topic: TOPIC, partitions: start });
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC });
  let inserted = 0;
  let first = 0;
  let last = 0;
  let cpu: Record<string, number> = {};
  const done = new Promise<void>((resolve, reject) => {
    void consumer.run({
      partitionsConsumedConcurrently: 6,
      eachBatch: async ({ batch }) => {
        const rows = batch.messages.flatMap((m) => {
          const decoded = decodeEvent([AuditEvent], m.value);
          if (!decoded.ok) return [];
          const e = decoded.event as ReturnType<typeof auditEvent>;
          return [
            {
              event_id: e.eventId,
              organization_id: e.organizationId,
              action: e.data.action,
              actor_type: e.data.actor.type,
              actor_id: e.data.actor.id,
              outcome: e.data.outcome,
              inquiry_ids: e.data.targets.inquiryIds ?? [],
              subject_refs: e.data.targets.subjectRefs ?? [],
              request_id: e.data.requestId ?? null,
              occurred_at: e.occurredAt,
              entry: canonicalJson({ eventId: e.eventId, organizationId: e.organizationId, event: e.data }),
            },
          ];
        });
        if (rows.length === 0) return;
        if (!first) {
          first = performance.now();
          cpu = cpuSecondsByComponent({ bench: process.pid });
        }
        await dataSource
          .query(
            `insert into bench.audit_plain (event_id, organization_id, action, actor_type, actor_id, outcome,
                  inquiry_ids, subject_refs, request_id, occurred_at, entry)
           select r.event_id, r.organization_id, r.action, r.actor_type, r.actor_id, r.outcome, r.inquiry_ids,
                  r.subject_refs, r.request_id, r.occurred_at, r.entry
             from jsonb_to_recordset($1::jsonb) as r(event_id text, organization_id text, action text,
                  actor_type text, actor_id text, outcome text, inquiry_ids text[], subject_refs text[],
                  request_id text, occurred_at timestamptz, entry text)
           on conflict do nothing`,
            [JSON.stringify(rows)],
          )
          .catch((error: unknown) => reject(error as Error));
        inserted += rows.length;
        last = performance.now();
        if (inserted >= EVENTS) resolve();
      },
    });
  });
  await done;
  const used = cpuPer1000(cpu, cpuSecondsByComponent({ bench: process.pid }));
  await consumer.disconnect();
  return { rate: EVENTS / ((last - first) / 1000), cpu: used };
}

async function startService(): Promise<ServiceProcess> {
  const service = benchService('audit-log', {
    overrides: { PORT: String(await freePort()), LOG_LEVEL: 'warn' },
  });
  service.start();
  await service.waitReady();
  return service;
}

/** Lets the service consume whatever earlier runs left on the topic, so a round drains only its own. */
async function drainBacklog(kafka: Kafka): Promise<void> {
  const service = await startService();
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(TOPIC);
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (Date.now() > deadline)
      throw new Error('the audit-log service did not drain the topic within 10 minutes');
    const [committed] = await admin.fetchOffsets({ groupId: 'audit-log.append', topics: [TOPIC] });
    const behind = ends.some((end) => {
      if (end.high === end.low) return false;
      const at = committed!.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
      return BigInt(at) < BigInt(end.high);
    });
    if (!behind) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await admin.disconnect();
  await service.stop();
}

/** The sum of the sizes of the chains a round appends to (its organizations' and the operator chain). */
async function chainSizes(dataSource: DataSource, chains: string[]): Promise<number> {
  const [row] = (await dataSource.query(
    `select coalesce(sum(size), 0)::bigint as n from chains where chain_id = any($1)`,
    [chains],
  )) as { n: string }[];
  return Number(row!.n);
}

/** CPU seconds per 1,000 events between two readings, per component. */
function cpuPer1000(from: Record<string, number>, to: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(to).map((k) => [k, Number((((to[k]! - (from[k] ?? 0)) / EVENTS) * 1000).toFixed(3))]),
  );
}

/** Veil: starts the service on the backlog and times its chains from the first append to the last. */
async function serviceAppends(
  dataSource: DataSource,
  chains: string[],
): Promise<{ rate: number; service: ServiceProcess; cpu: Record<string, number> }> {
  const before = await chainSizes(dataSource, chains); // the operator chain is shared with earlier rounds
  const service = await startService();
  let first = 0;
  let cpu: Record<string, number> = {};
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    if (Date.now() > deadline)
      throw new Error(`the audit-log service did not append ${EVENTS} events within 10 minutes`);
    const appended = (await chainSizes(dataSource, chains)) - before;
    if (appended > 0 && !first) {
      first = performance.now();
      cpu = cpuSecondsByComponent({ auditLog: service.pid });
    }
    if (appended >= EVENTS) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seconds = (performance.now() - first) / 1000;
  return {
    rate: EVENTS / seconds,
    service,
    cpu: cpuPer1000(cpu, cpuSecondsByComponent({ auditLog: service.pid })),
  };
}

/** A chain of PROOF_TREE entries, appended by the service's own code, kept for later runs. */
async function proofTree(dataSource: DataSource, signer: CheckpointSigner): Promise<string> {
  const organizationId = `bench_proofs_${PROOF_TREE}`;
  const chain = `org:${organizationId}`;
  const [head] = (await dataSource.query(`select size from chains where chain_id = $1`, [chain])) as {
    size: string;
  }[];
  let size = Number(head?.size ?? 0);
  if (size < PROOF_TREE) say(`building the ${PROOF_TREE}-entry chain for proofs (kept for later runs)...`);
  const log = new MerkleLogRepository();
  while (size < PROOF_TREE) {
    const n = Math.min(10_000, PROOF_TREE - size);
    const batch = Array.from({ length: n }, (_, j) => {
      const e = auditEvent(organizationId, size + j + 1); // never an operator action: one chain
      return {
        eventId: e.eventId,
        organizationId,
        occurredAt: e.occurredAt,
        producer: 'bench',
        event: e.data,
      };
    });
    batch.forEach((e) => (e.event.actor = { type: 'api_key', id: 'key_bench' }));
    await dataSource.transaction((tx) => log.append(tx, batch));
    size += n;
  }
  const checkpointer = new Checkpointer(
    dataSource,
    signer,
    { AUDIT_CHECKPOINT_EVERY: 1, AUDIT_CHECKPOINT_INTERVAL_MS: 100 } as AuditLogConfig,
    new OutboxWriter('audit-log'),
  );
  await checkpointer.checkpointDue();
  return chain;
}

async function main(): Promise<void> {
  loadInfraEnv();
  const { dataSource, signer, close } = await openAuditLog('bench-audit', 4);
  const { pem } = await signer.publicKeyPem();
  const kafka = createKafkaClient({
    clientId: 'bench-audit',
    brokers: process.env.KAFKA_BROKERS!.split(','),
    logger: new JsonLogger('bench', 'error'),
  });
  await createPlainTable();
  say('draining what earlier runs left on the topic...');
  await drainBacklog(kafka);

  const rounds: {
    veil: number;
    plain: number;
    veilCpu: Record<string, number>;
    plainCpu: Record<string, number>;
  }[] = [];
  let lastChains: string[] = [];
  let rssMb = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const run = `${Date.now().toString(36)}${round}`;
    const orgs = Array.from({ length: ORGS }, (_, i) => `bench_audit_${run}_${i}`);
    say(`round ${round}/${ROUNDS}: publishing ${EVENTS} audit events for ${ORGS} organizations...`);
    const start = await publishRound(kafka, orgs);
    await adminQuery(`truncate bench.audit_plain`);
    const { rate: plain, cpu: plainCpu } = await plainInserts(kafka, dataSource, start, round);
    say(`  plain table inserts: ${Math.round(plain)}/s (CPU s per 1000: ${JSON.stringify(plainCpu)})`);
    const {
      rate: veil,
      service,
      cpu: veilCpu,
    } = await serviceAppends(dataSource, [...orgs.map((o) => `org:${o}`), OPERATOR_CHAIN]);
    rssMb = Math.max(rssMb, peakRssMb(service.pid!));
    await service.stop();
    say(
      `  audit-log appends:   ${Math.round(veil)}/s (${((veil / plain) * 100).toFixed(1)} % of plain; CPU s per 1000: ${JSON.stringify(veilCpu)})`,
    );
    rounds.push({ veil, plain, veilCpu, plainCpu });
    lastChains = orgs.map((o) => `org:${o}`);
  }

  say('full verification of the last round’s chains...');
  const report = await new LogVerifier(dataSource, pem).verifyAll(lastChains);
  if (!report.ok)
    throw new Error(
      `the bench chains do not verify: ${JSON.stringify(report.chains.find((c) => c.problem))}`,
    );
  const verifyRate = report.entries / report.seconds;

  const chain = await proofTree(dataSource, signer);
  const [checkpoint] = (await dataSource.query(
    `select max(tree_size)::int as size from checkpoints where chain_id = $1`,
    [chain],
  )) as { size: number }[];
  const treeSize = checkpoint!.size;
  say(`inclusion proofs in a chain of ${treeSize} entries...`);
  // proofs are a read path: measured once the write burst above has settled (autovacuum done,
  // dirty pages flushed), as they are served in steady state
  await settle();
  const proofs = new ProofService(dataSource);
  // warm-up (connections, plans, the index pages a proof touches), not measured
  for (let i = 0; i < 200; i++) await proofs.inclusion(chain, Math.floor(Math.random() * treeSize));
  const inProcess: number[] = [];
  let maxPath = 0;
  let checked = 0;
  for (let i = 0; i < PROOFS; i++) {
    const seq = Math.floor(Math.random() * treeSize);
    const t = performance.now();
    const proof = await proofs.inclusion(chain, seq);
    inProcess.push(performance.now() - t);
    maxPath = Math.max(maxPath, proof.path.length);
    if (i % 100 === 0) {
      const [row] = (await dataSource.query(`select entry from entries where chain_id = $1 and seq = $2`, [
        chain,
        seq,
      ])) as { entry: string }[];
      const problem = checkInclusionProof(row!.entry, proof, pem);
      if (problem) throw new Error(`proof of ${seq} does not verify: ${problem}`);
      checked++;
    }
  }
  // the same through the service's HTTP API (entry lookup by event id, proof, JSON, HTTP)
  const service = benchService('audit-log', {
    overrides: { PORT: String(await freePort()), LOG_LEVEL: 'warn' },
  });
  service.start();
  await service.waitReady();
  const sample = (await dataSource.query(
    `select event_id from entries where chain_id = $1 and seq = any($2::bigint[])`,
    [chain, Array.from({ length: Math.min(PROOFS, 1_000) }, () => Math.floor(Math.random() * treeSize))],
  )) as { event_id: string }[];
  const overHttp: number[] = [];
  const { entryProof } = AuditLogApi.operations;
  for (const { event_id: eventId } of sample) {
    const t = performance.now();
    const request: RequestOf<typeof entryProof> = { organizationId: chain.slice(4), eventId };
    const res = await fetch(`${service.baseUrl}${entryProof.path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${service.env.AUDIT_LOG_INTERNAL_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(request),
    });
    await res.json();
    if (res.status !== 200) throw new Error(`proof over HTTP answered ${res.status}`);
    overHttp.push(performance.now() - t);
  }
  await service.stop();

  const summary = {
    appends: {
      events: EVENTS,
      organizations: ORGS,
      rounds: rounds.map((r) => ({
        veilPerSecond: Math.round(r.veil),
        plainPerSecond: Math.round(r.plain),
        ratio: Number((r.veil / r.plain).toFixed(3)),
        cpuSecondsPer1000: { veil: r.veilCpu, plain: r.plainCpu },
      })),
      veilPerSecond: Math.round(median(rounds.map((r) => r.veil))),
      plainPerSecond: Math.round(median(rounds.map((r) => r.plain))),
      ratio: Number(median(rounds.map((r) => r.veil / r.plain)).toFixed(3)),
      targets: { perSecond: 5_000, ratio: 0.5 },
    },
    verification: {
      entries: report.entries,
      chains: report.chains.length,
      seconds: report.seconds,
      entriesPerSecond: Math.round(verifyRate),
      target: 200_000,
    },
    inclusionProofs: {
      treeSize,
      proofs: PROOFS,
      inProcess: { p50Ms: round2(percentile(inProcess, 50)), p99Ms: round2(percentile(inProcess, 99)) },
      overHttp: { p50Ms: round2(percentile(overHttp, 50)), p99Ms: round2(percentile(overHttp, 99)) },
      maxPathLength: maxPath,
      log2TreeSize: Number(Math.log2(treeSize).toFixed(2)),
      verifiedSample: checked,
      targets: { p99Ms: 5 },
    },
    peakRssMb: { auditLog: rssMb },
    at: new Date().toISOString(),
  };
  const file = writeResults('audit', summary);
  say(
    [
      '',
      `appends (median of ${ROUNDS} x ${EVENTS}): audit-log ${summary.appends.veilPerSecond}/s vs plain inserts ${summary.appends.plainPerSecond}/s = ${(summary.appends.ratio * 100).toFixed(1)}% (targets >= 5000/s, >= 50%)`,
      `full verification: ${summary.verification.entriesPerSecond} entries/s (${report.entries} entries, ${report.chains.length} chains, ${report.seconds} s; target >= 200000/s)`,
      `inclusion proofs at ${treeSize} entries: in process p50 ${summary.inclusionProofs.inProcess.p50Ms} ms, p99 ${summary.inclusionProofs.inProcess.p99Ms} ms (target p99 <= 5 ms); over HTTP p50 ${summary.inclusionProofs.overHttp.p50Ms} ms, p99 ${summary.inclusionProofs.overHttp.p99Ms} ms; path length <= ${maxPath} (log2 n = ${summary.inclusionProofs.log2TreeSize}); ${checked} sampled proofs verified`,
      `peak RSS: audit-log ${rssMb} MB`,
      `results: ${file}`,
    ].join('\n'),
  );
  await close();
}

/** Waits (at most two minutes) for autovacuum workers to finish, then flushes dirty pages. */
async function settle(): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [row] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where backend_type = 'autovacuum worker'`,
    );
    if (row!.n === 0) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await adminQuery('checkpoint');
}

function round2(n: number): number {
  return Number(n.toFixed(2));
}

runBenchmark(main);
