import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

import { Client } from 'pg';

/** A PostgreSQL SCRAM-SHA-256 password verifier (RFC 5802/7677), as `CREATE ROLE ... PASSWORD` accepts it. */
export function scramSha256Verifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

export interface ServiceDatabase {
  /** The service's schema, also the suffix of its role (veil_<schema>). */
  schema: string;
  password: string;
}

export function serviceRole(schema: string): string {
  return `veil_${schema}`;
}

/** The role that owns a service's schema and tables; nobody logs in as it. */
export function ownerRole(schema: string): string {
  return `veil_${schema}_owner`;
}

/** The connection URL a service uses: same server and database as `adminUrl`, the service's own role. */
export function serviceDatabaseUrl(adminUrl: string, db: ServiceDatabase): string {
  const url = new URL(adminUrl);
  url.username = serviceRole(db.schema);
  url.password = db.password;
  return url.toString();
}

function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a safe SQL identifier: ${name}`);
  return `"${name}"`;
}

/**
 * Creates (idempotently) one role and one schema per service in the database of `adminUrl`.
 * Each role owns its schema and can reach no other service's schema.
 */
export async function provisionServiceDatabases(
  adminUrl: string,
  services: readonly ServiceDatabase[],
): Promise<void> {
  const client = new Client({ connectionString: adminUrl, application_name: 'veil-provision' });
  await client.connect();
  try {
    await client.query("select pg_advisory_lock(hashtext('veil.provision'))");
    const { rows } = await client.query<{ db: string }>('select current_database() as db');
    const database = rows[0]!.db;
    await client.query(`revoke create on schema public from public`);
    for (const svc of services) {
      const role = serviceRole(svc.schema);
      const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
      // Only a SCRAM verifier reaches the server: DDL can be logged, the plaintext password is not in it.
      const { rows: lit } = await client.query<{ pw: string }>('select quote_literal($1) as pw', [
        scramSha256Verifier(svc.password),
      ]);
      if (exists.rowCount === 0) {
        await client.query(`create role ${ident(role)} login password ${lit[0]!.pw}`);
      } else {
        await client.query(`alter role ${ident(role)} login password ${lit[0]!.pw}`);
      }
      await client.query(`grant connect on database ${ident(database)} to ${ident(role)}`);
      const owner = ownerRole(svc.schema);
      const ownerExists = await client.query('select 1 from pg_roles where rolname = $1', [owner]);
      if (ownerExists.rowCount === 0) await client.query(`create role ${ident(owner)} nologin`);
      await client.query(`create schema if not exists ${ident(svc.schema)} authorization ${ident(role)}`);
      await client.query(`alter role ${ident(role)} set search_path = ${ident(svc.schema)}`);
    }
  } finally {
    await client.query("select pg_advisory_unlock(hashtext('veil.provision'))").catch(() => undefined);
    await client.end();
  }
}

/**
 * Hands a service's schema and everything in it to its owner role (idempotent; run by the
 * administrator): the service's role keeps using the tables (select, insert, update, delete) but
 * owns none, so it cannot switch row-level security off, drop or alter a table, or replace a
 * function. Objects its owner creates later (migrations, run as the owner) are granted the same.
 */
export async function handOverToOwner(adminUrl: string, schema: string): Promise<void> {
  const role = ident(serviceRole(schema));
  const owner = ident(ownerRole(schema));
  const s = ident(schema);
  const client = new Client({ connectionString: adminUrl, application_name: 'veil-provision' });
  await client.connect();
  try {
    await client.query('begin');
    await client.query(`alter schema ${s} owner to ${owner}`);
    await client.query(`grant usage on schema ${s} to ${role}`);
    await client.query(`revoke create on schema ${s} from ${role}`);
    const { rows } = await client.query<{ kind: string; name: string }>(
      // (sequences of serial columns follow their tables)
      `select 'table' as kind, c.relname as name
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind in ('r', 'p') and pg_get_userbyid(c.relowner) <> $2
       union all
       select 'function', p.oid::regprocedure::text
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = $1 and pg_get_userbyid(p.proowner) <> $2`,
      [schema, ownerRole(schema)],
    );
    for (const object of rows) {
      const name = object.kind === 'function' ? object.name : `${s}.${ident(object.name)}`;
      await client.query(`alter ${object.kind} ${name} owner to ${owner}`);
    }
    await client.query(`grant select, insert, update, delete on all tables in schema ${s} to ${role}`);
    await client.query(`grant usage, select, update on all sequences in schema ${s} to ${role}`);
    await client.query(`grant execute on all functions in schema ${s} to ${role}`);
    await client.query(
      `alter default privileges for role ${owner} in schema ${s} grant select, insert, update, delete on tables to ${role}`,
    );
    await client.query(
      `alter default privileges for role ${owner} in schema ${s} grant usage, select, update on sequences to ${role}`,
    );
    await client.query(
      `alter default privileges for role ${owner} in schema ${s} grant execute on functions to ${role}`,
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** Creates the database named in `adminUrl` if missing, connecting to the server's `postgres` database. */
export async function ensureDatabase(adminUrl: string): Promise<void> {
  const url = new URL(adminUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) await client.query(`create database ${ident(name)}`);
  } finally {
    await client.end();
  }
}
