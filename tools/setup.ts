/**
 * Prepares the infrastructure for Veil: the database, one schema and role per service, the
 * services' migrations, the audit log's append-only ownership, and every topic from the contracts. Idempotent; `npm start` and `npm test`
 * run it after tools/infra.sh up. Reads KAFKA_BROKERS / DATABASE_URL (admin) from the environment
 * or from $VEIL_HOME/env.
 */
import { Logger } from '@nestjs/common';
import { TOPICS } from '@veil/contracts';
import { loadInfraEnv } from '@veil/platform/config';
import {
  createServiceDataSource,
  ensureDatabase,
  provisionServiceDatabases,
  runMigrations,
} from '@veil/platform/database';
import { createKafkaClient, ensureTopics, MESSAGING_MIGRATIONS } from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { SERVICE_CATALOG, serviceDatabasePassword, serviceEnvironment } from '@veil/platform/service';

import { secureAppendOnlyTables } from '../services/audit-log/src/migrations/append-only-owner';
import { SERVICE_MIGRATIONS } from './service-migrations';

export async function setup(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const adminUrl = env.DATABASE_URL!;
  await ensureDatabase(adminUrl);
  await provisionServiceDatabases(
    adminUrl,
    SERVICE_CATALOG.map((s) => ({ schema: s.schema, password: serviceDatabasePassword(s, env) })),
  );
  for (const service of SERVICE_CATALOG) {
    const dataSource = createServiceDataSource({
      url: serviceEnvironment(service, env).DATABASE_URL!,
      schema: service.schema,
      applicationName: 'veil-setup',
      poolSize: 2, // one holds the migration lock, one migrates
      migrations: [...MESSAGING_MIGRATIONS, ...(SERVICE_MIGRATIONS[service.name] ?? [])],
    });
    await dataSource.initialize();
    try {
      const applied = await runMigrations(dataSource);
      say(`migrations: ${service.name}: ${applied.length ? applied.join(', ') : 'up to date'}`);
    } finally {
      await dataSource.destroy();
    }
  }
  await secureAppendOnlyTables(adminUrl);
  say(
    'audit log: append-only tables owned by veil_audit_log_owner; the service role may only read and insert',
  );
  const kafka = createKafkaClient({
    clientId: 'veil-setup',
    brokers: env.KAFKA_BROKERS!.split(','),
    logger: new JsonLogger('setup', 'warn'),
  });
  const report = await ensureTopics(kafka, TOPICS, { env });
  say(
    `topics: ${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged` +
      (report.created.length ? ` (created ${report.created.join(', ')})` : ''),
  );
}

function say(line: string): void {
  process.stdout.write(`setup: ${line}\n`);
}

if (require.main === module) {
  Logger.overrideLogger(false);
  loadInfraEnv();
  setup().catch((error: unknown) => {
    process.stderr.write(`setup: error: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
