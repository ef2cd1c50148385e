/**
 * Audit-log commands:
 *
 *   npm run audit -- verify [chain ...]
 *       the full check: recomputes every chain (or the ones named) from its entries, compares every
 *       signed checkpoint, and names the first bad entry or broken checkpoint. Exit 0 when the log
 *       verifies, 1 when it does not.
 *   npm run audit -- export <chain> <file>
 *       writes the chain's signed checkpoints and entries as JSON lines, for the standalone verifier
 *       (tools/verify-audit-export.ts), which needs no database and no Veil server.
 */
import { createWriteStream } from 'node:fs';

import { createKmsClient } from '@veil/platform/crypto';
import { loadInfraEnv } from '@veil/platform/config';
import { createServiceDataSource } from '@veil/platform/database';
import { serviceEntry, serviceEnvironment } from '@veil/platform/service';
import type { DataSource } from 'typeorm';

import { CheckpointSigner } from '../services/audit-log/src/checkpoints/checkpoint-signer';
import { CheckpointStore } from '../services/audit-log/src/checkpoints/checkpoint-store';
import { AuditQueryRepository } from '../services/audit-log/src/query/audit-query.repository';
import { LogVerifier } from '../services/audit-log/src/verify/log-verifier';

async function main(): Promise<number> {
  const [command, ...chains] = process.argv.slice(2);
  if (command !== 'verify' && !(command === 'export' && chains.length === 2)) {
    process.stderr.write('usage: npm run audit -- verify [chain ...] | export <chain> <file>\n');
    return 2;
  }
  loadInfraEnv();
  const entry = serviceEntry('audit-log');
  const env = serviceEnvironment(entry, process.env);
  const dataSource = createServiceDataSource({
    url: env.DATABASE_URL!,
    schema: entry.schema,
    applicationName: 'veil-audit-verify',
    poolSize: 2,
  });
  await dataSource.initialize();
  const kms = createKmsClient({
    region: env.AWS_REGION!,
    keyAlias: env.AUDIT_SIGNING_KEY_ALIAS ?? 'alias/veil-audit-signing',
    ...(env.KMS_ENDPOINT ? { endpoint: env.KMS_ENDPOINT } : {}),
  });
  try {
    if (command === 'export') {
      const count = await exportChain(dataSource, chains[0]!, chains[1]!);
      process.stderr.write(`exported ${count} entries of ${chains[0]} to ${chains[1]}\n`);
      return 0;
    }
    const { pem } = await new CheckpointSigner(
      kms,
      env.AUDIT_SIGNING_KEY_ALIAS ?? 'alias/veil-audit-signing',
    ).publicKeyPem();
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
    kms.destroy();
    await dataSource.destroy();
  }
}

async function exportChain(dataSource: DataSource, chain: string, file: string): Promise<number> {
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

void main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit: ${(error as Error).message}\n`);
    process.exit(2);
  },
);
