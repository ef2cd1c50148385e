import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Merkle-tree audit log (RFC 6962 style), one tree per chain: per organization, plus one for
 * operator actions. `entries`, `nodes` and `checkpoints` are append-only: the service's role may
 * insert and read them only, and a trigger refuses updates, deletes and truncation from any role.
 * `chains` is the mutable head of each tree (size, right-edge peaks, root).
 */
export class MerkleLog1764300000000 implements MigrationInterface {
  name = 'MerkleLog1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table chains (
        chain_id text primary key,
        organization_id text,
        size bigint not null default 0 check (size >= 0),
        peaks bytea[] not null default '{}',
        root_hash bytea not null,
        updated_at timestamptz not null default now()
      )`);
    // (chain_id, seq) is the primary key: two entries can never claim one position, so a chain
    // cannot fork however many appenders race.
    await q.query(`
      create table entries (
        chain_id text not null references chains (chain_id),
        seq bigint not null check (seq >= 0),
        event_id text not null unique,
        organization_id text not null,
        action text not null,
        actor_type text not null,
        actor_id text not null,
        outcome text not null,
        inquiry_ids text[] not null default '{}',
        subject_refs text[] not null default '{}',
        request_id text,
        occurred_at timestamptz not null,
        appended_at timestamptz not null default now(),
        entry text not null,
        leaf_hash bytea not null,
        primary key (chain_id, seq)
      )`);
    await q.query(
      `create index entries_by_organization on entries (organization_id, occurred_at, chain_id, seq)`,
    );
    await q.query(`
      create table nodes (
        chain_id text not null,
        level smallint not null check (level between 1 and 62),
        idx bigint not null check (idx >= 0),
        hash bytea not null,
        primary key (chain_id, level, idx)
      )`);
    await q.query(`
      create table checkpoints (
        chain_id text not null references chains (chain_id),
        tree_size bigint not null check (tree_size > 0),
        root_hash bytea not null,
        signed_at timestamptz not null,
        key_id text not null,
        algorithm text not null,
        signature bytea not null,
        primary key (chain_id, tree_size)
      )`);
    await q.query(`
      create function refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'the audit log is append-only: % on % refused', tg_op, tg_table_name
          using errcode = 'insufficient_privilege';
      end $$`);
    for (const table of ['entries', 'nodes', 'checkpoints']) {
      await q.query(`revoke update, delete, truncate on ${table} from current_user`);
      await q.query(
        `create trigger ${table}_append_only before update or delete on ${table} for each row execute function refuse_change()`,
      );
      await q.query(
        `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function refuse_change()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table checkpoints, nodes, entries, chains`);
    await q.query(`drop function refuse_change()`);
  }
}
