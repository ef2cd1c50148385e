import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rows a transaction may touch: those of the organizations it named in `veil.organization_id`. */
const VISIBLE = `organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))`;

/**
 * Row-level security on every tenant-scoped table, and no wildcard. A transaction sees and writes
 * only the rows of the organizations it names in `veil.organization_id` (one for a customer's
 * request; the organizations of a consumed batch for the read model; commas cannot occur in an
 * organization id). Before, `'*'` opened every row to any session that set it.
 *
 * Cross-organization reads that the key registry needs (every key, to verify keys in memory) go
 * through one function that runs as the schema's owner role (nobody logs in as it; tools/setup.ts
 * hands the tables to it), the only role a policy lets read every key.
 */
export class TenantRowsEverywhere1764800000000 implements MigrationInterface {
  name = 'TenantRowsEverywhere1764800000000';

  async up(q: QueryRunner): Promise<void> {
    const [{ schema }] = (await q.query(`select current_schema() as schema`)) as [{ schema: string }];
    const owner = `veil_${schema}_owner`;
    for (const table of ['inquiries', 'idempotency_keys']) {
      await q.query(`drop policy tenant_isolation on ${table}`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
    }
    for (const table of ['organizations', 'api_keys']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
      await q.query(`create policy key_registry on ${table} for select to ${owner} using (true)`);
    }
    // Every key (or only those changed by transactions at or above `since`), for the in-memory
    // registry; the only way the service's role reads keys of all organizations.
    await q.query(`
      create function key_registry_changes(since xid8)
        returns table (key_id text, organization_id text, secret_hash bytea, scopes text[],
                       expires_at timestamptz, revoked_at timestamptz, org_active boolean)
        language sql stable security definer set search_path from current as $$
          select k.key_id, k.organization_id, k.secret_hash, k.scopes, k.expires_at, k.revoked_at, o.status = 'active'
            from api_keys k join organizations o using (organization_id)
           where since is null or k.changed_xid >= since
          union
          select k.key_id, k.organization_id, k.secret_hash, k.scopes, k.expires_at, k.revoked_at, o.status = 'active'
            from api_keys k join organizations o using (organization_id)
           where since is not null and o.changed_xid >= since
        $$`);
    await q.query(`revoke all on function key_registry_changes(xid8) from public`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function key_registry_changes(xid8)`);
    for (const table of ['organizations', 'api_keys']) {
      await q.query(`drop policy key_registry on ${table}`);
      await q.query(`drop policy tenant_isolation on ${table}`);
      await q.query(`alter table ${table} no force row level security`);
      await q.query(`alter table ${table} disable row level security`);
    }
  }
}
