import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tables the messaging platform needs in every service schema. Services list these migrations
 * before their own; unqualified names land in the service's schema (search_path).
 */
export class KafkaInbox1764000000000 implements MigrationInterface {
  name = 'KafkaInbox1764000000000';

  async up(q: QueryRunner): Promise<void> {
    // One row per event a consumer group has applied; written in the handler's transaction.
    await q.query(`
      create table kafka_inbox (
        consumer_group text not null,
        event_id text not null,
        topic text not null,
        partition integer not null,
        "offset" bigint not null,
        processed_at timestamptz not null default now(),
        primary key (consumer_group, event_id)
      )`);
    await q.query(`create index kafka_inbox_processed_at on kafka_inbox (processed_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table kafka_inbox`);
  }
}

export class TransactionalOutbox1764000000001 implements MigrationInterface {
  name = 'TransactionalOutbox1764000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table outbox (
        id bigserial primary key,
        topic text not null,
        message_key text not null,
        event_id text not null unique,
        organization_id text not null,
        payload text not null,
        headers jsonb not null,
        created_at timestamptz not null default now(),
        published_at timestamptz
      )`);
    await q.query(`create index outbox_pending on outbox (id) where published_at is null`);
    await q.query(`create index outbox_published_at on outbox (published_at) where published_at is not null`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table outbox`);
  }
}

/** Rows the broker refuses for good are set aside (with the reason) instead of blocking the relay. */
export class OutboxQuarantine1764000000002 implements MigrationInterface {
  name = 'OutboxQuarantine1764000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table outbox add column quarantined_at timestamptz, add column failure text`);
    await q.query(`drop index outbox_pending`);
    await q.query(
      `create index outbox_pending on outbox (id) where published_at is null and quarantined_at is null`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index outbox_pending`);
    await q.query(`create index outbox_pending on outbox (id) where published_at is null`);
    await q.query(`alter table outbox drop column quarantined_at, drop column failure`);
  }
}

/**
 * Records of must-deliver topics (the audit trail) that a consumer dead-lettered: the service is not
 * ready while any is unresolved, so an audit event never silently falls out of the pipeline.
 */
export class DeadLetterLog1764700000000 implements MigrationInterface {
  name = 'DeadLetterLog1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table dead_letter_log (
        consumer_group text not null,
        topic text not null,
        partition integer not null,
        "offset" bigint not null,
        error_code text not null,
        dead_lettered_at timestamptz not null default now(),
        resolved_at timestamptz,
        resolved_by text,
        resolution text,
        primary key (consumer_group, topic, partition, "offset")
      )`);
    await q.query(
      `create index dead_letter_log_unresolved on dead_letter_log (topic) where resolved_at is null`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table dead_letter_log`);
  }
}

export const MESSAGING_MIGRATIONS = [
  KafkaInbox1764000000000,
  TransactionalOutbox1764000000001,
  OutboxQuarantine1764000000002,
  DeadLetterLog1764700000000,
];
