import type { MigrationInterface, QueryRunner } from 'typeorm';

const VISIBLE = `organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))`;
const TENANT_TABLES = ['legal_holds', 'redaction_skips'];

/**
 * Legal holds, and an index for erased subjects. Legal holds live where every redaction is applied, so that none can pass one: the vault skips
 * held inquiries (by id, or by the subject's blind index) and records each skip with its hold.
 */
export class LegalHolds1765200000000 implements MigrationInterface {
  name = 'LegalHolds1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table legal_holds (
        organization_id text not null,
        hold_id text not null,
        target_kind text not null check (target_kind in ('inquiry', 'subject')),
        inquiry_id text,
        subject_ref text,
        basis text not null,
        expires_at timestamptz,
        created_by text not null,
        created_at timestamptz not null default now(),
        released_at timestamptz,
        released_by text,
        primary key (organization_id, hold_id),
        check ((target_kind = 'inquiry') = (inquiry_id is not null)),
        check ((target_kind = 'subject') = (subject_ref is not null))
      )`);
    await q.query(
      `create index legal_holds_active on legal_holds (organization_id) where released_at is null`,
    );
    await q.query(`
      create table redaction_skips (
        organization_id text not null,
        redaction_id text not null,
        inquiry_id text not null,
        hold_id text not null,
        skipped_at timestamptz not null default now(),
        primary key (organization_id, redaction_id, inquiry_id)
      )`);
    // Erased subjects, for good: a store checks the erasures requested after its inquiry happened.
    await q.query(
      `create index redactions_subjects on redactions (organization_id, requested_at) where target_kind = 'subject'`,
    );
    for (const table of TENANT_TABLES) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table redaction_skips, legal_holds`);
  }
}
