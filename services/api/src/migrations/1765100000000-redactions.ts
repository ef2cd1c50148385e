import type { MigrationInterface, QueryRunner } from 'typeorm';

const VISIBLE = `organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))`;

/**
 * Redactions the customers asked for (ids and who asked; a subject is named by its blind index,
 * never its reference id), and the read model's record of redacted inquiries: a `pii.redacted`
 * that arrives before the inquiry's `inquiry.recorded` is kept here, so the record is redacted
 * from the start.
 */
export class Redactions1765100000000 implements MigrationInterface {
  name = 'Redactions1765100000000';

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
        requested_at timestamptz not null default now(),
        primary key (organization_id, redaction_id),
        check ((target_kind = 'inquiry') = (inquiry_id is not null)),
        check ((target_kind = 'subject') = (subject_ref is not null))
      )`);
    // Redacting an inquiry twice is one redaction.
    await q.query(
      `create unique index redactions_one_per_inquiry on redactions (organization_id, inquiry_id)`,
    );
    await q.query(
      `create index redactions_newest on redactions (organization_id, requested_at desc, redaction_id desc)`,
    );
    await q.query(`
      create table inquiry_redactions (
        organization_id text not null,
        inquiry_id text not null,
        redaction_id text not null,
        redacted_at timestamptz not null,
        primary key (organization_id, inquiry_id)
      )`);
    for (const table of ['redactions', 'inquiry_redactions']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table inquiry_redactions, redactions`);
  }
}
