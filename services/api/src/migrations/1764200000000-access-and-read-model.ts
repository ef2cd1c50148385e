import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Organizations, their API keys and enabled attributes; the PII-free inquiry read model; and
 * idempotency records. Tenant tables have row-level security forced (it applies to this schema's
 * owner too): a query without `veil.organization_id` set to the caller's organization sees nothing.
 */
export class AccessAndReadModel1764200000000 implements MigrationInterface {
  name = 'AccessAndReadModel1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table organizations (
        organization_id text primary key,
        name text not null,
        status text not null default 'active' check (status in ('active', 'suspended')),
        enabled_attributes text[] not null default '{}',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    // Every change to a key (or to its organization's status) takes a new version, which is how
    // the in-memory registries of every process find what changed since their last refresh.
    await q.query(`create sequence api_key_versions`);
    await q.query(`
      create table api_keys (
        key_id text primary key,
        organization_id text not null references organizations,
        name text not null,
        secret_hash bytea not null,
        scopes text[] not null,
        created_by text not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        version bigint not null default nextval('api_key_versions')
      )`);
    await q.query(`create index api_keys_version on api_keys (version)`);
    await q.query(`create index api_keys_organization on api_keys (organization_id)`);

    await q.query(`
      create table inquiries (
        organization_id text not null,
        inquiry_id text not null,
        template_id text not null,
        status text not null,
        attributes_provided text[] not null,
        created_at timestamptz not null,
        redacted_at timestamptz,
        primary key (organization_id, inquiry_id)
      )`);
    await q.query(
      `create index inquiries_listing on inquiries (organization_id, created_at desc, inquiry_id desc)`,
    );

    await q.query(`
      create table idempotency_keys (
        organization_id text not null,
        idempotency_key text not null,
        method text not null,
        path text not null,
        request_hash text not null,
        status_code integer,
        response_body jsonb,
        created_at timestamptz not null default now(),
        primary key (organization_id, idempotency_key)
      )`);

    for (const table of ['inquiries', 'idempotency_keys']) {
      await q.query(`alter table ${table} enable row level security`);
      await q.query(`alter table ${table} force row level security`);
      // '*' is set only by system code (the inquiry.recorded consumer, maintenance), never from a request.
      await q.query(`
        create policy tenant_isolation on ${table}
          using (organization_id = current_setting('veil.organization_id', true) or current_setting('veil.organization_id', true) = '*')
          with check (organization_id = current_setting('veil.organization_id', true) or current_setting('veil.organization_id', true) = '*')`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table idempotency_keys, inquiries, api_keys, organizations`);
    await q.query(`drop sequence api_key_versions`);
  }
}
