import type { MigrationInterface, QueryRunner } from 'typeorm';

export class VaultTables1764100000000 implements MigrationInterface {
  name = 'VaultTables1764100000000';

  async up(q: QueryRunner): Promise<void> {
    // Per-organization keys, wrapped by the KMS root key (CiphertextBlob of GenerateDataKey).
    // `uses_reserved` is persisted before encryptions happen: an upper bound that survives restarts.
    await q.query(`
      create table organization_keys (
        organization_id text not null,
        purpose text not null check (purpose in ('kek', 'blind_index')),
        version integer not null check (version > 0),
        wrapped_key bytea not null,
        kms_key_id text not null,
        uses_reserved bigint not null default 0,
        created_at timestamptz not null default now(),
        retired_at timestamptz,
        primary key (organization_id, purpose, version)
      )`);
    await q.query(
      `create unique index organization_keys_one_active on organization_keys (organization_id, purpose) where retired_at is null`,
    );

    // One random data key per inquiry, wrapped locally by an organization KEK. Crypto-shredding
    // deletes the wrapped key (the row stays, with destroyed_at).
    await q.query(`
      create table data_keys (
        organization_id text not null,
        inquiry_id text not null,
        data_key_version integer not null,
        kek_version integer not null,
        wrapped_key bytea,
        created_at timestamptz not null default now(),
        destroyed_at timestamptz,
        primary key (organization_id, inquiry_id),
        check ((wrapped_key is null) = (destroyed_at is not null))
      )`);

    // The inquiry's ciphertexts, one per attribute, packed into one row (see field-bundle.ts);
    // `attributes` lists what is there without decrypting anything.
    await q.query(`
      create table encrypted_fields (
        organization_id text not null,
        inquiry_id text not null,
        attributes text[] not null,
        bundle bytea,
        data_key_version integer not null,
        created_at timestamptz not null default now(),
        primary key (organization_id, inquiry_id),
        foreign key (organization_id, inquiry_id) references data_keys on delete cascade
      )`);

    // Keyed HMACs for equality search (DSAR, lookups by reference id) without decrypting.
    await q.query(`
      create table blind_indexes (
        organization_id text not null,
        kind text not null,
        digest text not null,
        key_version integer not null,
        inquiry_id text not null,
        primary key (organization_id, kind, digest, inquiry_id),
        foreign key (organization_id, inquiry_id) references data_keys on delete cascade
      )`);
    await q.query(`create index blind_indexes_inquiry on blind_indexes (organization_id, inquiry_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table blind_indexes, encrypted_fields, data_keys, organization_keys`);
  }
}
