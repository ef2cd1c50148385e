import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rows a transaction may touch: those of the organizations it named in `veil.organization_id`. */
const VISIBLE = `organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))`;

const TENANT_TABLES = ['organization_keys', 'data_keys', 'encrypted_fields', 'blind_indexes'];

/**
 * Row-level security on every vault table: a transaction sees and writes only the rows of the
 * organizations it names (the requests of one coalesced batch, the organization of a lookup or of
 * a key), so a query that forgets its `organization_id` condition finds nothing of another tenant.
 * Forced, so that the owner role (migrations) is confined too.
 */
export class TenantRows1764900000000 implements MigrationInterface {
  name = 'TenantRows1764900000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TENANT_TABLES) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
    }
    // The reveal's read names its organizations and reads in one statement: a separate
    // `begin; set_config(…)` and `commit` would add two round trips to the hottest path. Not a
    // security definer: the caller's role, and so the policies, apply.
    await q.query(`
      create function reveal_rows(organization_ids text[], inquiry_ids text[])
        returns table (organization_id text, inquiry_id text, data_key_version integer, kek_version integer,
                       wrapped_key bytea, bundle bytea, fields_key_version integer)
        language plpgsql set search_path from current as $$
        #variable_conflict use_column
        begin
          perform set_config('veil.organization_id',
                             array_to_string(array(select distinct unnest(organization_ids)), ','), true);
          return query
            select d.organization_id, d.inquiry_id, d.data_key_version, d.kek_version, d.wrapped_key,
                   f.bundle, f.data_key_version
              from (select distinct * from unnest(organization_ids, inquiry_ids) as w(org, inq)) w
              join data_keys d on d.organization_id = w.org and d.inquiry_id = w.inq
              left join encrypted_fields f on f.organization_id = d.organization_id and f.inquiry_id = d.inquiry_id;
        end $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function reveal_rows(text[], text[])`);
    for (const table of TENANT_TABLES) {
      await q.query(`drop policy tenant_isolation on ${table}`);
      await q.query(`alter table ${table} no force row level security`);
      await q.query(`alter table ${table} disable row level security`);
    }
  }
}
