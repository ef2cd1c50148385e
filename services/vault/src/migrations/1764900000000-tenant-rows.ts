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
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TENANT_TABLES) {
      await q.query(`drop policy tenant_isolation on ${table}`);
      await q.query(`alter table ${table} no force row level security`);
      await q.query(`alter table ${table} disable row level security`);
    }
  }
}
