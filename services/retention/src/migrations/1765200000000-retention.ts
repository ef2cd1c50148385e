import type { MigrationInterface, QueryRunner } from 'typeorm';

const VISIBLE = `organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))`;

/**
 * Retention policies (rules per organization) and the plan: every recorded inquiry with the time
 * its PII is due for redaction under the policy (null: never), when the redaction was requested
 * (once) and when it was done. A policy change plans every inquiry of the organization again.
 */
export class Retention1765200000000 implements MigrationInterface {
  name = 'Retention1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table policies (
        organization_id text primary key,
        rules jsonb not null,
        updated_at timestamptz not null,
        updated_by text not null
      )`);
    await q.query(`
      create table planned_inquiries (
        organization_id text not null,
        inquiry_id text not null,
        template_id text not null,
        status text not null,
        created_at timestamptz not null,
        due_at timestamptz,
        requested_at timestamptz,
        redaction_id text,
        redacted_at timestamptz,
        held_by text,
        recheck_at timestamptz,
        primary key (organization_id, inquiry_id)
      )`);
    // What the scheduler reads: due, not yet requested nor redacted.
    await q.query(
      `create index planned_inquiries_due on planned_inquiries (due_at)
        where due_at is not null and requested_at is null and redacted_at is null`,
    );
    for (const table of ['policies', 'planned_inquiries']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      await q.query(`create policy tenant_isolation on ${table} using (${VISIBLE}) with check (${VISIBLE})`);
    }
    // The scheduler finds which organizations have work through this one function, run as the
    // schema's owner (nobody logs in as it), the only role a policy lets see every plan; it then
    // works on each organization in a transaction confined to it.
    const [{ schema }] = (await q.query(`select current_schema() as schema`)) as [{ schema: string }];
    await q.query(
      `create policy scheduler on planned_inquiries for select to veil_${schema}_owner using (true)`,
    );
    await q.query(`
      create function due_organizations(at timestamptz)
        returns table (organization_id text)
        language sql stable security definer set search_path from current as $$
          select distinct p.organization_id from planned_inquiries p
           where p.due_at <= at and p.requested_at is null and p.redacted_at is null
             and (p.recheck_at is null or p.recheck_at <= at)
        $$`);
    await q.query(`revoke all on function due_organizations(timestamptz) from public`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop function due_organizations(timestamptz)`);
    await q.query(`drop table planned_inquiries, policies`);
  }
}
