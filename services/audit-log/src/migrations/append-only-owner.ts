import { Client } from 'pg';

/** Owns the audit log's append-only tables; nobody logs in as it. */
export const AUDIT_LOG_OWNER = 'veil_audit_log_owner';
const SERVICE_ROLE = 'veil_audit_log';
const APPEND_ONLY = ['entries', 'nodes', 'checkpoints'];
const GUARDS = ['refuse_change()', 'guard_entries()'];

/**
 * Run by the administrator after the migrations (tools/setup.ts; idempotent): the schema, the
 * append-only tables and their trigger functions pass to a role nobody logs in as. The service's
 * role keeps SELECT and INSERT on them and nothing else, so it cannot grant itself UPDATE, switch a
 * trigger off, replace a trigger function or drop a table — it owns none of them. The mutable
 * tables (chain heads, outbox, inbox) stay the service's. A later migration that changes these
 * tables is therefore run by this owner, not by the service at boot.
 */
export async function secureAppendOnlyTables(adminUrl: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl, application_name: 'veil-setup' });
  await client.connect();
  try {
    await client.query('begin');
    const { rowCount } = await client.query('select 1 from pg_roles where rolname = $1', [AUDIT_LOG_OWNER]);
    if (rowCount === 0) await client.query(`create role ${AUDIT_LOG_OWNER} nologin`);
    await client.query(`alter schema audit_log owner to ${AUDIT_LOG_OWNER}`);
    await client.query(`grant usage on schema audit_log to ${SERVICE_ROLE}`);
    for (const table of APPEND_ONLY) {
      await client.query(`alter table audit_log.${table} owner to ${AUDIT_LOG_OWNER}`);
      await client.query(`revoke all on audit_log.${table} from ${SERVICE_ROLE}`);
      await client.query(`grant select, insert on audit_log.${table} to ${SERVICE_ROLE}`);
    }
    for (const fn of GUARDS) await client.query(`alter function audit_log.${fn} owner to ${AUDIT_LOG_OWNER}`);
    // the retention prune erases entries as this role (the trigger allows nothing else)
    await client.query(`grant update on audit_log.entries to ${AUDIT_LOG_OWNER}`);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    await client.end();
  }
}
