import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Key registries find changes by the transaction that made them, not by a sequence number: a
 * sequence value is taken before commit, so a transaction that took N and committed after N+1 was
 * never read. Every insert or update of a key or an organization records its transaction id
 * (`changed_xid`); a refresh reads everything changed by transactions that were not yet visible
 * to the previous refresh (ids at or above that snapshot's xmin). See ADR 0004.
 */
export class CommitOrderedKeyChanges1764600000000 implements MigrationInterface {
  name = 'CommitOrderedKeyChanges1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create function record_changing_transaction() returns trigger language plpgsql as $$
      begin
        new.changed_xid := pg_current_xact_id();
        return new;
      end $$`);
    for (const table of ['api_keys', 'organizations']) {
      await q.query(`alter table ${table} add column changed_xid xid8 not null default pg_current_xact_id()`);
      await q.query(`
        create trigger ${table}_changed_xid before insert or update on ${table}
          for each row execute function record_changing_transaction()`);
      await q.query(`create index ${table}_changed_xid on ${table} (changed_xid)`);
    }
    await q.query(`drop index api_keys_version`);
    await q.query(`alter table api_keys drop column version`);
    await q.query(`drop sequence api_key_versions`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`create sequence api_key_versions`);
    await q.query(
      `alter table api_keys add column version bigint not null default nextval('api_key_versions')`,
    );
    await q.query(`create index api_keys_version on api_keys (version)`);
    for (const table of ['api_keys', 'organizations']) {
      await q.query(`drop trigger ${table}_changed_xid on ${table}`);
      await q.query(`alter table ${table} drop column changed_xid`);
    }
    await q.query(`drop function record_changing_transaction()`);
  }
}
