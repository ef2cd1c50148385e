import type { MigrationInterface, QueryRunner } from 'typeorm';

const VISIBLE = `organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))`;
const TENANT_TABLES = ['redactions', 'redacted_inquiries', 'redaction_acks'];

/**
 * Redaction: the requests the vault received, the ledger of redacted inquiries (ids only, never
 * deleted: it is what makes a redaction absorbing against replays and late duplicates) and each
 * other service's acknowledgement. The ledger of record is also on the compacted `pii.redacted`
 * topic, from which a restored database is reconciled at start-up.
 */
export class RedactionLedger1765100000000 implements MigrationInterface {
  name = 'RedactionLedger1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table redactions (
        organization_id text not null,
        redaction_id text not null,
        target_kind text not null check (target_kind in ('inquiry', 'subject')),
        inquiry_id text,
        subject_ref text,
        reason text not null,
        requested_by text not null,
        requested_at timestamptz not null,
        received_at timestamptz not null default now(),
        applied_at timestamptz,
        completed_at timestamptz,
        primary key (organization_id, redaction_id),
        check ((target_kind = 'inquiry') = (inquiry_id is not null)),
        check ((target_kind = 'subject') = (subject_ref is not null))
      )`);
    // A subject stays under erasure (its new inquiries are redacted on arrival) until completion.
    await q.query(
      `create index redactions_open_subjects on redactions (organization_id, subject_ref)
        where target_kind = 'subject' and completed_at is null`,
    );
    await q.query(`
      create table redacted_inquiries (
        organization_id text not null,
        inquiry_id text not null,
        redaction_id text not null,
        attributes text[] not null,
        redacted_at timestamptz not null,
        primary key (organization_id, inquiry_id)
      )`);
    await q.query(
      `create index redacted_inquiries_redaction on redacted_inquiries (organization_id, redaction_id)`,
    );
    await q.query(`
      create table redaction_acks (
        organization_id text not null,
        inquiry_id text not null,
        service text not null,
        redaction_id text not null,
        applied_at timestamptz not null,
        primary key (organization_id, inquiry_id, service)
      )`);
    for (const table of TENANT_TABLES) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
    }
    // A redacted inquiry reads as redacted (a row with no key), not as unknown; the delete and the
    // ledger row commit together, so a reveal sees either the whole inquiry or its redaction.
    await q.query(`
      create or replace function reveal_rows(organization_ids text[], inquiry_ids text[])
        returns table (organization_id text, inquiry_id text, data_key_version integer, kek_version integer,
                       wrapped_key bytea, bundle bytea, fields_key_version integer)
        language plpgsql set search_path from current as $$
        #variable_conflict use_column
        begin
          perform set_config('veil.organization_id',
                             array_to_string(array(select distinct unnest(organization_ids)), ','), true);
          return query
            with w as (select distinct * from unnest(organization_ids, inquiry_ids) as w(org, inq))
            select d.organization_id, d.inquiry_id, d.data_key_version, d.kek_version, d.wrapped_key,
                   f.bundle, f.data_key_version
              from w
              join data_keys d on d.organization_id = w.org and d.inquiry_id = w.inq
              left join encrypted_fields f on f.organization_id = d.organization_id and f.inquiry_id = d.inquiry_id
             where not exists (select 1 from redacted_inquiries r
                                where r.organization_id = w.org and r.inquiry_id = w.inq)
            union all
            select r.organization_id, r.inquiry_id, 0, 0, null::bytea, null::bytea, null::integer
              from w join redacted_inquiries r on r.organization_id = w.org and r.inquiry_id = w.inq;
        end $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TENANT_TABLES) await q.query(`drop table ${table}`);
  }
}
