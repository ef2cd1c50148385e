import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Inquiries1764100000000 implements MigrationInterface {
  name = 'Inquiries1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // The PII-free inquiry record: ids, status, which attributes exist and the vault's tokens.
    await q.query(`
      create table inquiries (
        organization_id text not null,
        inquiry_id text not null,
        template_id text not null,
        status text not null,
        attributes_provided text[] not null,
        vault_tokens jsonb not null,
        source_event_id text not null,
        occurred_at timestamptz not null,
        recorded_at timestamptz not null default now(),
        redacted_at timestamptz,
        primary key (organization_id, inquiry_id)
      )`);
    await q.query(`create index inquiries_recorded_at on inquiries (organization_id, recorded_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table inquiries`);
  }
}
