import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention of audit entries: past the retention period an entry's content is erased and its
 * place in the tree stays (chain, position, event id, organization, time and leaf hash), so the
 * tree, its signed checkpoints and the proofs of every later entry still verify.
 *
 * Erasing is the only change the log ever allows, and only from a maintenance connection that
 * names its cutoff (`audit_log.prune_before`, at least 30 days back) for entries appended before
 * it (the log's own clock, not the producer's): the service's role still has no UPDATE grant, and
 * the trigger refuses anything else — any other update, any delete.
 */
export class AuditRetention1764500000000 implements MigrationInterface {
  name = 'AuditRetention1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      alter table entries
        alter column entry drop not null,
        alter column action drop not null,
        alter column actor_type drop not null,
        alter column actor_id drop not null,
        alter column outcome drop not null,
        add column pruned_at timestamptz`);
    await q.query(`
      create function guard_entries() returns trigger language plpgsql as $$
      declare
        cutoff timestamptz := nullif(current_setting('audit_log.prune_before', true), '')::timestamptz;
      begin
        if tg_op = 'UPDATE' and cutoff is not null and cutoff <= now() - interval '30 days'
           and old.pruned_at is null and old.appended_at < cutoff
           and new.pruned_at is not null and new.entry is null and new.action is null
           and new.actor_type is null and new.actor_id is null and new.outcome is null
           and new.request_id is null and new.inquiry_ids = '{}' and new.subject_refs = '{}'
           and (new.chain_id, new.seq, new.event_id, new.organization_id, new.occurred_at, new.appended_at, new.leaf_hash)
               is not distinct from
               (old.chain_id, old.seq, old.event_id, old.organization_id, old.occurred_at, old.appended_at, old.leaf_hash)
        then
          return new;
        end if;
        raise exception 'the audit log is append-only: % on % refused', tg_op, tg_table_name
          using errcode = 'insufficient_privilege';
      end $$`);
    await q.query(`drop trigger entries_append_only on entries`);
    await q.query(
      `create trigger entries_append_only before update or delete on entries for each row execute function guard_entries()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop trigger entries_append_only on entries`);
    await q.query(
      `create trigger entries_append_only before update or delete on entries for each row execute function refuse_change()`,
    );
    await q.query(`drop function guard_entries()`);
    await q.query(`alter table entries drop column pruned_at`);
  }
}
