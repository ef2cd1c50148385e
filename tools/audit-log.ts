/**
 * Audit-log commands:
 *
 *   npm run audit -- verify [chain ...]
 *       the full check: recomputes every chain (or the ones named) from its entries, compares every
 *       signed checkpoint, and names the first bad entry or broken checkpoint. Exit 0 when the log
 *       verifies, 1 when it does not.
 *   npm run audit -- prune --reason "<why>" [--older-than-days N]
 *       retention: erases the content of entries appended more than N days ago (default AUDIT_RETENTION_DAYS,
 *       3650; at least 30), keeping each one's place and leaf hash, so every chain still verifies.
 *       Runs on the administrator connection (the service's role may not change entries), each
 *       write as the role owning what it touches; only entries under a checkpoint signed before the
 *       cutoff go. Each organization concerned gets an operator audit entry with the count.
 *   npm run audit -- export <chain> <file>
 *       writes the chain's signed checkpoints and entries as JSON lines, for the standalone verifier
 *       (tools/verify-audit-export.ts), which needs no database and no Veil server. Audited first
 *       (`audit.chain.exported` in the operator chain, visible to the chain's organization).
 *   npm run audit -- dead-letters [--resolve --reason "<why>"]
 *       audit events the log's consumer dead-lettered (malformed, or refused for good): the service is
 *       not ready while any is unresolved. Lists them; with --resolve, marks them resolved (once each
 *       is dealt with: redriven, or judged not an audit event), recorded in the operator chain.
 */
import { createWriteStream } from 'node:fs';
import { hostname, userInfo } from 'node:os';

import {
  AUDIT_LOG_OWNER,
  AuditQueryRepository,
  CheckpointStore,
  LogVerifier,
  openAuditLog,
} from '@veil/audit-log/operator';
import { AuditEvent, OPERATOR_CHAIN_OWNER } from '@veil/contracts';
import { loadInfraEnv } from '@veil/platform/config';
import { createServiceDataSource, serviceRole } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { serviceEntry } from '@veil/service-catalog';
import type { DataSource } from 'typeorm';

async function main(): Promise<number> {
  const [command, ...chains] = process.argv.slice(2);
  if (command === 'prune') return prune(chains);
  if (command === 'dead-letters') return deadLetters(chains);
  if (command !== 'verify' && !(command === 'export' && chains.length === 2)) {
    process.stderr.write(
      'usage: npm run audit -- verify [chain ...] | export <chain> <file> | prune --reason "<why>" [--older-than-days N]\n',
    );
    return 2;
  }
  loadInfraEnv();
  const { dataSource, signer, close } = await openAuditLog('veil-audit-verify');
  try {
    if (command === 'export') {
      const count = await exportChain(dataSource, chains[0]!, chains[1]!);
      process.stderr.write(`exported ${count} entries of ${chains[0]} to ${chains[1]}\n`);
      return 0;
    }
    const { pem } = await signer.publicKeyPem();
    const report = await new LogVerifier(dataSource, pem).verifyAll(chains.length > 0 ? chains : undefined);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(
      report.ok
        ? `audit log verifies: ${report.entries} entries in ${report.chains.length} chains (${report.seconds} s)\n`
        : `audit log does NOT verify:\n${report.chains
            .filter((c) => c.problem)
            .map((c) => `  ${c.chain}: ${c.problem!.message}`)
            .join('\n')}\n`,
    );
    return report.ok ? 0 : 1;
  } finally {
    await close();
  }
}

/** Who runs an operator command, as the audit log names them. */
function operatorId(): string {
  return `op_${userInfo().username}@${hostname()}`.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 128);
}

async function exportChain(dataSource: DataSource, chain: string, file: string): Promise<number> {
  // Audited before a byte is written (an export that cannot be audited does not happen), in the
  // operator chain, visible to the organization whose chain it is.
  const organizationId = chain.startsWith('org:') ? chain.slice('org:'.length) : OPERATOR_CHAIN_OWNER;
  await dataSource.transaction((tx) =>
    new OutboxWriter('audit-log').enqueue(
      tx,
      AuditEvent,
      {
        organizationId,
        data: {
          action: 'audit.chain.exported',
          actor: { type: 'operator', id: operatorId() },
          outcome: 'allowed',
          targets: { resourceIds: [chain] },
          purpose: 'export of the chain for the standalone verifier',
        },
      },
      { ordered: false },
    ),
  );
  const out = createWriteStream(file);
  const write = (value: unknown) =>
    new Promise<void>((resolve, reject) =>
      out.write(`${JSON.stringify(value)}\n`, (error) => (error ? reject(error) : resolve())),
    );
  for (const checkpoint of await new CheckpointStore(dataSource).list(chain)) await write({ checkpoint });
  const entries = new AuditQueryRepository(dataSource);
  let count = 0;
  for (let after = -1; ;) {
    const page = await entries.chainEntries(chain, after, 10_000);
    for (const line of page) await write(line);
    count += page.length;
    if (page.length < 10_000) break;
    after = page[page.length - 1]!.seq;
  }
  await new Promise<void>((resolve) => out.end(resolve));
  return count;
}

async function prune(args: string[]): Promise<number> {
  const option = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const reason = option('--reason')?.trim();
  const days = Number(option('--older-than-days') ?? process.env.AUDIT_RETENTION_DAYS ?? 3650);
  if (!reason || !Number.isInteger(days) || days < 30) {
    process.stderr.write(
      'usage: npm run audit -- prune --reason "<why>" [--older-than-days N]   (N >= 30, default AUDIT_RETENTION_DAYS or 3650)\n',
    );
    return 2;
  }
  loadInfraEnv();
  const entry = serviceEntry('audit-log');
  const dataSource = createServiceDataSource({
    url: process.env.DATABASE_URL!, // the administrator's connection
    schema: entry.schema,
    applicationName: 'veil-audit-prune',
    poolSize: 1,
  });
  await dataSource.initialize();
  const operator = operatorId();
  const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
  try {
    const pruned = await dataSource.transaction(async (tx) => {
      await tx.query(`select set_config('audit_log.prune_before', $1, true)`, [cutoff]);
      // Never as the administrator: each write runs as the role that owns what it touches, so a
      // trigger planted on a table the service owns can never run with superuser rights.
      await tx.query(`set local role ${AUDIT_LOG_OWNER}`);
      // Only entries a checkpoint signed before the cutoff covers: that checkpoint vouches, to any
      // verifier, that they were whole and old enough when erased.
      const counts = (await tx.query(
        `with vouched as (
           select chain_id, max(tree_size) as size from checkpoints where signed_at <= $1 group by chain_id
         ), pruned as (
           update entries e set entry = null, action = null, actor_type = null, actor_id = null, outcome = null,
                  request_id = null, inquiry_ids = '{}', subject_refs = '{}', pruned_at = now()
             from vouched v
            where e.chain_id = v.chain_id and e.seq < v.size and e.appended_at < $1 and e.pruned_at is null
           returning e.organization_id)
         select organization_id, count(*)::int as n from pruned group by organization_id order by organization_id`,
        [cutoff],
      )) as { organization_id: string; n: number }[];
      await tx.query(`set local role ${serviceRole(entry.schema)}`);
      // recorded in the same transaction: a prune that cannot be audited does not happen
      await new OutboxWriter('audit-log').enqueueMany(
        tx,
        AuditEvent,
        counts.map((c) => ({
          organizationId: c.organization_id,
          data: {
            action: 'audit.entries.pruned',
            actor: { type: 'operator', id: operator },
            outcome: 'allowed',
            targets: {},
            purpose: `${reason} (${c.n} entries older than ${days} days, before ${cutoff})`.slice(0, 256),
          },
        })),
        { ordered: false },
      );
      return counts;
    });
    const total = pruned.reduce((n, c) => n + c.n, 0);
    process.stderr.write(
      `pruned ${total} entries older than ${days} days (before ${cutoff}) in ${pruned.length} organizations\n`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

async function deadLetters(args: string[]): Promise<number> {
  const resolve = args.includes('--resolve');
  const reasonAt = args.indexOf('--reason');
  const reason = reasonAt >= 0 ? args[reasonAt + 1]?.trim() : undefined;
  if (resolve && !reason) {
    process.stderr.write('usage: npm run audit -- dead-letters [--resolve --reason "<why>"]\n');
    return 2;
  }
  loadInfraEnv();
  const { dataSource, close } = await openAuditLog('veil-audit-dead-letters');
  const operator = operatorId();
  try {
    const open = (await dataSource.query(
      `select consumer_group, topic, partition, "offset", error_code, dead_lettered_at
         from dead_letter_log where resolved_at is null order by dead_lettered_at, partition, "offset"`,
    )) as {
      consumer_group: string;
      topic: string;
      partition: number;
      offset: string;
      error_code: string;
      dead_lettered_at: Date;
    }[];
    for (const r of open)
      process.stdout.write(
        `${r.topic} partition ${r.partition} offset ${r.offset}: ${r.error_code} (group ${r.consumer_group}, ${r.dead_lettered_at.toISOString()})\n`,
      );
    if (!resolve) {
      process.stderr.write(`${open.length} unresolved dead-lettered audit record(s)\n`);
      return 0;
    }
    const resolved = await dataSource.transaction(async (tx) => {
      const rows = (await tx.query(
        `update dead_letter_log set resolved_at = now(), resolved_by = $1, resolution = $2
          where resolved_at is null returning topic, partition, "offset"`,
        [operator, reason],
      )) as { topic: string }[];
      if (rows.length > 0)
        await new OutboxWriter('audit-log').enqueue(
          tx,
          AuditEvent,
          {
            organizationId: OPERATOR_CHAIN_OWNER,
            data: {
              action: 'audit.dead_letters.resolved',
              actor: { type: 'operator', id: operator },
              outcome: 'allowed',
              targets: {},
              purpose: `${reason} (${rows.length} record(s))`.slice(0, 256),
            },
          },
          { ordered: false },
        );
      return rows.length;
    });
    process.stderr.write(`resolved ${resolved} dead-lettered audit record(s)\n`);
    return 0;
  } finally {
    await close();
  }
}

void main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit: ${(error as Error).message}\n`);
    process.exit(2);
  },
);
