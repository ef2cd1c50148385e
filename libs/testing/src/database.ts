import { randomBytes } from 'node:crypto';

import { createServiceDataSource, runMigrations } from '@veil/platform/database';
import { MESSAGING_MIGRATIONS } from '@veil/platform/kafka';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

export function adminDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set (integration tests load it from $VEIL_HOME/env)');
  return url;
}

export async function adminQuery<T = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
  url = adminDatabaseUrl(),
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  schema: string;
  dataSource: DataSource;
  drop(): Promise<void>;
}

/**
 * A fresh schema with the messaging tables (inbox, outbox) and whatever `extraSql` creates,
 * for tests of platform code that need a service-like database of their own.
 */
export async function createTestSchema(
  extraSql: string[] = [],
  url = adminDatabaseUrl(),
): Promise<TestSchema> {
  const schema = `test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create schema ${schema}`, [], url);
  const dataSource = createServiceDataSource({
    url,
    schema,
    applicationName: 'veil-test',
    poolSize: 10,
    migrations: MESSAGING_MIGRATIONS,
  });
  await dataSource.initialize();
  await runMigrations(dataSource);
  for (const sql of extraSql) await dataSource.query(sql);
  return {
    schema,
    dataSource,
    drop: async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await adminQuery(`drop schema if exists ${schema} cascade`, [], url);
    },
  };
}
