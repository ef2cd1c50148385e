import { DataSource, type EntitySchema, type MixedList } from 'typeorm';

export interface ServiceDatabaseOptions {
  url: string;
  /** The service's own schema; every table of the service lives there. */
  schema: string;
  applicationName: string;
  poolSize?: number;
  /** Upper bound for any statement (0 = none); a stuck query must not hold a partition forever. */
  statementTimeoutMs?: number;
  /** Act as this role after connecting (an administrator's connection running a schema owner's migrations). */
  role?: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  entities?: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  migrations?: MixedList<Function | string>;
}

/**
 * One TypeORM data source per service, bound to the service's schema. Schema changes happen only
 * through migrations: `synchronize` is off and stays off.
 */
export function createServiceDataSource(options: ServiceDatabaseOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    applicationName: options.applicationName,
    entities: options.entities ?? [],
    migrations: options.migrations ?? [],
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    connectTimeoutMS: 5_000,
    poolSize: options.poolSize ?? 10,
    extra: {
      // Unqualified names in migrations and queries resolve to the service's schema.
      options:
        `-c search_path=${options.schema} -c statement_timeout=${options.statementTimeoutMs ?? 0}` +
        (options.role ? ` -c role=${options.role}` : ''),
      idleTimeoutMillis: 30_000,
    },
  });
}

/**
 * Applies pending migrations. Several replicas may boot at once, so a session advisory lock
 * makes them take turns; the second finds nothing left to do.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const schema = schemaOf(dataSource);
  const poolSize = (dataSource.options as { poolSize?: number }).poolSize ?? 10;
  if (poolSize < 2)
    throw new Error('runMigrations needs a pool of at least 2 connections (one holds the lock)');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('select pg_advisory_lock(hashtext($1))', [`veil.migrations.${schema}`]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner
      .query('select pg_advisory_unlock(hashtext($1))', [`veil.migrations.${schema}`])
      .catch(() => undefined);
    await runner.release();
  }
}

/** Initializes, retrying while PostgreSQL is not reachable yet, up to `timeoutMs`. */
export async function initializeWithRetry(dataSource: DataSource, timeoutMs = 60_000): Promise<DataSource> {
  const deadline = Date.now() + timeoutMs;
  let delay = 200;
  for (;;) {
    try {
      return await dataSource.initialize();
    } catch (error) {
      if (Date.now() + delay > deadline || !isTransientDatabaseError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  }
}

// Connection problems (class 08), serialization failures and deadlocks, resource exhaustion,
// lock timeouts and server shutdown/restart: retrying later can succeed. Statement timeouts
// (57014) and constraint failures are not in the list: retrying the same statement fails again.
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '53000',
  '53100',
  '53200',
  '53300',
  '55P03',
  '57P01',
  '57P02',
  '57P03',
]);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /terminating connection/i,
  /connection is not established/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /Client was closed/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
  /Query read timeout/i,
];

/**
 * True when retrying later can succeed: PostgreSQL unreachable, restarting, overloaded, or a
 * serialization/deadlock conflict. False for errors in the statement or the data.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const candidates: unknown[] = [error];
  const driverError = (error as { driverError?: unknown } | null)?.driverError;
  if (driverError) candidates.push(driverError);
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause) candidates.push(cause);
  return candidates.some((candidate) => {
    if (candidate === null || typeof candidate !== 'object') return false;
    const code = (candidate as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (TRANSIENT_NODE_CODES.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || TRANSIENT_SQLSTATES.has(code))) return true;
    }
    const message = (candidate as { message?: unknown }).message;
    return typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message));
  });
}

/** `select 1` bounded by a timeout; the readiness probe of every service. */
export async function pingDatabase(dataSource: DataSource, timeoutMs = 2_000): Promise<void> {
  if (!dataSource.isInitialized) throw new Error('database not initialized');
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dataSource.query('select 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`database did not answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The schema a service data source is bound to. */
export function schemaOf(dataSource: DataSource): string {
  const options = dataSource.options as { schema?: string };
  return options.schema ?? 'public';
}

type Queryable = { query(sql: string, params?: unknown[]): Promise<unknown> };

/**
 * Rows of a statement, whatever its kind: TypeORM returns `[rows, count]` for UPDATE and DELETE
 * (even with RETURNING) and plain rows otherwise.
 */
export async function queryRows<T>(db: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await db.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
