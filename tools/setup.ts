/**
 * Prepares the infrastructure for Veil: the database, one schema, owner role and service role per
 * service, the services' migrations (from their manifests, run as each schema's owner), the audit
 * log's append-only grants, and every topic from the contracts. Idempotent; `npm start` and
 * `npm test` run it after tools/infra.sh up. Reads KAFKA_BROKERS / DATABASE_URL (admin) from the
 * environment or from $VEIL_HOME/env.
 */
import { Logger } from '@nestjs/common';
import { secureAppendOnlyTables } from '@veil/audit-log/operator';
import { TOPICS } from '@veil/contracts';
import { loadInfraEnv } from '@veil/platform/config';
import {
  createServiceDataSource,
  ensureDatabase,
  handOverToOwner,
  ownerRole,
  provisionServiceDatabases,
  runMigrations,
} from '@veil/platform/database';
import {
  aclsFromContracts,
  createKafkaClient,
  ensureTopics,
  MESSAGING_MIGRATIONS,
  syncAcls,
} from '@veil/platform/kafka';
import { JsonLogger } from '@veil/platform/logging';
import { SERVICE_CATALOG, serviceDatabasePassword } from '@veil/service-catalog';

export async function setup(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const adminUrl = env.DATABASE_URL!;
  await ensureDatabase(adminUrl);
  await provisionServiceDatabases(
    adminUrl,
    SERVICE_CATALOG.map((s) => ({ schema: s.schema, password: serviceDatabasePassword(s, env) })),
  );
  for (const service of SERVICE_CATALOG) {
    // Each schema belongs to a role nobody logs in as; its migrations run as that owner.
    await handOverToOwner(adminUrl, service.schema);
    const dataSource = createServiceDataSource({
      url: adminUrl,
      role: ownerRole(service.schema),
      schema: service.schema,
      applicationName: 'veil-setup',
      poolSize: 2, // one holds the migration lock, one migrates
      migrations: [...MESSAGING_MIGRATIONS, ...(service.migrations ?? [])],
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
  say('schemas: each owned by veil_<schema>_owner (no login); the service roles use the tables and own none');
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
  // Only where the broker authenticates clients: the ACLs the topic contracts imply.
  if ((env.KAFKA_SECURITY_PROTOCOL ?? 'plaintext') === 'sasl_ssl') {
    const acls = await syncAcls(kafka, aclsFromContracts(TOPICS));
    say(
      `kafka ACLs: ${acls.created} created, ${acls.deleted} removed, ${acls.unchanged} unchanged (from the topic contracts)`,
    );
  }
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
