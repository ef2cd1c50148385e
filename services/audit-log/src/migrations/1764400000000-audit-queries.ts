import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for the customer query API: every query is scoped to one organization and pages newest
 * first; the array columns (inquiries, subject refs) are searched by containment.
 */
export class AuditQueries1764400000000 implements MigrationInterface {
  name = 'AuditQueries1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`create index entries_by_actor on entries (organization_id, actor_id, occurred_at)`);
    await q.query(`create index entries_by_action on entries (organization_id, action, occurred_at)`);
    await q.query(`create index entries_by_inquiry on entries using gin (inquiry_ids)`);
    await q.query(`create index entries_by_subject on entries using gin (subject_refs)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index entries_by_subject, entries_by_inquiry, entries_by_action, entries_by_actor`);
  }
}
