import type { LoggerService } from '@nestjs/common';
import { createEvent, type EventContract, type EventEnvelope, type NewEvent, TOPICS } from '@veil/contracts';
import type { IHeaders, Message } from 'kafkajs';
import { schemaOf } from '@veil/platform/database';
import type { DataSource, EntityManager } from 'typeorm';

import { backoffDelay, DEFAULT_BACKOFF, sleep } from './backoff';
import { describeError } from './errors';
import { toMessage, type EventPublisher } from './publisher';

export interface EnqueueOptions {
  /**
   * Keep per-key order across concurrent transactions (default). Turn off only for events whose
   * consumers do not depend on the order of concurrent writers (e.g. events a consumer orders by its
   * own append), where the per-key lock would serialize unrelated requests.
   */
  ordered?: boolean;
}

const MAX_ROUND_BYTES = 768 * 1024;

const MUST_DELIVER = new Set(TOPICS.filter((t) => t.mustDeliver).map((t) => t.name));

/**
 * Writes events into the service's outbox table inside the caller's business transaction, so an
 * event exists if and only if the change that caused it committed (invariant 3).
 */
export class OutboxWriter {
  constructor(private readonly producer: string) {}

  async enqueue<T>(
    tx: EntityManager,
    contract: EventContract<T>,
    input: Omit<NewEvent<T>, 'producer'>,
    options: EnqueueOptions = {},
  ): Promise<EventEnvelope<T>> {
    const [event] = await this.enqueueMany(tx, contract, [input], options);
    return event!;
  }

  async enqueueMany<T>(
    tx: EntityManager,
    contract: EventContract<T>,
    inputs: Omit<NewEvent<T>, 'producer'>[],
    options: EnqueueOptions = {},
  ): Promise<EventEnvelope<T>[]> {
    if (inputs.length === 0) return [];
    const events = inputs.map((input) => createEvent(contract, { ...input, producer: this.producer }));
    const messages = events.map((event) => toMessage(contract, event));
    if (options.ordered ?? true) {
      // Writers of the same key take turns (until commit), so outbox ids of one key follow commit
      // order and the relay, which publishes in id order, cannot put a later event first. Locks
      // are taken in hash order so two transactions never wait on each other in a cycle.
      await tx.query(
        `select pg_advisory_xact_lock(h) from (select distinct hashtext($1 || ':' || k) as h from unnest($2::text[]) as k order by h) s`,
        [contract.topic.name, messages.map((m) => String(m.key))],
      );
    }
    const insert = insertStatement(contract.topic.name, events, messages, 1);
    await tx.query(insert.sql, insert.params);
    return events;
  }

  /**
   * The outbox insert for `inputs` as SQL (parameters from `$firstParam`), for a caller that folds
   * it into the one statement whose effect it records, e.g. a data-modifying CTE. A single
   * statement is atomic on its own: one round trip, and the event exists iff the statement
   * succeeded. Unordered only (see EnqueueOptions.ordered).
   */
  prepare<T>(
    contract: EventContract<T>,
    inputs: Omit<NewEvent<T>, 'producer'>[],
    firstParam: number,
  ): { events: EventEnvelope<T>[]; sql: string; params: unknown[] } {
    const events = inputs.map((input) => createEvent(contract, { ...input, producer: this.producer }));
    const messages = events.map((event) => toMessage(contract, event));
    return { events, ...insertStatement(contract.topic.name, events, messages, firstParam) };
  }
}

function insertStatement(
  topic: string,
  events: EventEnvelope<unknown>[],
  messages: Message[],
  firstParam: number,
): { sql: string; params: unknown[] } {
  return {
    sql: `insert into outbox (topic, message_key, event_id, organization_id, payload, headers)
       select $${firstParam}, m.key, m.event_id, m.org, m.payload, m.headers
         from json_to_recordset($${firstParam + 1}::json) as m(key text, event_id text, org text, payload text, headers jsonb)`,
    params: [
      topic,
      JSON.stringify(
        messages.map((m, i) => ({
          key: String(m.key),
          event_id: events[i]!.eventId,
          org: events[i]!.organizationId,
          payload: String(m.value),
          headers: m.headers ?? {},
        })),
      ),
    ],
  };
}

export interface OutboxRelayHooks {
  /** Called after the broker acknowledged a batch and before it is marked published (tests inject faults here). */
  afterSend?: (eventIds: string[]) => Promise<void> | void;
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  publisher: EventPublisher;
  logger: LoggerService;
  batchSize?: number;
  idlePollMs?: number;
  /** Published rows are kept this long for inspection, then deleted. */
  keepPublishedMs?: number;
  hooks?: OutboxRelayHooks;
}

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string;
  event_id: string;
  payload: string;
  headers: IHeaders;
}

/**
 * Relays outbox rows to Kafka in id order (so per key in the order they were written), then marks
 * them published. A relay that dies between the send and the mark re-sends those rows on restart;
 * consumers de-duplicate by event id, so each event still takes effect once.
 *
 * One relay per schema is active at a time: each round runs in a transaction holding an advisory
 * lock, so replicas take turns instead of racing and reordering.
 */
export class OutboxRelay {
  private running = false;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();
  private wake?: () => void;
  private lastPrune = 0;
  private readonly lockKey: string;
  /** After a batch the broker refused for good: rows go one at a time until the culprit is found. */
  private singleRowRounds = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.lockKey = `veil.outbox.${schemaOf(options.dataSource)}`;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Ask for a round now (e.g. right after a transaction that wrote to the outbox committed). */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  /**
   * Rows of must-deliver topics (the audit trail) that are stuck: refused by the broker, or set
   * aside before that rule existed. Any such row makes the service not ready.
   */
  async undeliverable(): Promise<number> {
    const rows: { n: string }[] = await this.options.dataSource.query(
      `select count(*) as n from outbox
        where published_at is null and topic = any($1::text[]) and (quarantined_at is not null or failure is not null)`,
      [[...MUST_DELIVER]],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Pending rows, for metrics and readiness. */
  async pending(): Promise<number> {
    const rows: { n: string }[] = await this.options.dataSource.query(
      'select count(*) as n from outbox where published_at is null and quarantined_at is null',
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.relayOnce();
        failures = 0;
        await this.pruneIfDue();
      } catch (error) {
        if (!this.running) break;
        this.options.logger.warn(
          { msg: 'outbox relay round failed, will retry', ...describeError(error) },
          'OutboxRelay',
        );
        await sleep(backoffDelay(failures++, DEFAULT_BACKOFF), this.abort.signal);
        continue;
      }
      if (sent < (this.options.batchSize ?? 500)) await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.idlePollMs ?? 100);
      const wake = (): void => done();
      this.wake = wake;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** One round: returns how many rows it published (or quarantined). */
  async relayOnce(): Promise<number> {
    const { dataSource, publisher, hooks } = this.options;
    return dataSource.transaction(async (tx) => {
      const [lock]: { locked: boolean }[] = await tx.query(
        'select pg_try_advisory_xact_lock(hashtext($1)) as locked',
        [this.lockKey],
      );
      if (!lock?.locked) return 0;
      const candidates: OutboxRow[] = await tx.query(
        `select id, topic, message_key, event_id, payload, headers
           from outbox where published_at is null and quarantined_at is null order by id limit $1`,
        [this.singleRowRounds > 0 ? 1 : (this.options.batchSize ?? 500)],
      );
      // Bounded by bytes too, so one round never exceeds what a broker accepts in a request.
      const rows: OutboxRow[] = [];
      let bytes = 0;
      for (const row of candidates) {
        bytes += Buffer.byteLength(row.payload);
        if (rows.length > 0 && bytes > MAX_ROUND_BYTES) break;
        rows.push(row);
      }
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, Message[]>();
      for (const row of rows) {
        const messages = byTopic.get(row.topic) ?? [];
        messages.push({ key: row.message_key, value: row.payload, headers: row.headers });
        byTopic.set(row.topic, messages);
      }
      try {
        await publisher.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      } catch (error) {
        if ((error as { retriable?: unknown }).retriable !== false) throw error; // broker down etc.: retry the round
        // The broker refuses something in this batch for good (too large, topic missing): find it
        // by sending one row at a time, and set that row aside instead of blocking every other.
        if (rows.length > 1) {
          this.singleRowRounds = 100;
          throw error;
        }
        const reason = describeError(error).code ?? describeError(error).error;
        if (MUST_DELIVER.has(rows[0]!.topic)) {
          // Never set aside (the audit trail): it stays first in line, the relay keeps retrying,
          // and the service is not ready until an operator makes it deliverable.
          await dataSource.query('update outbox set failure = $2 where id = $1', [rows[0]!.id, reason]);
          this.options.logger.error(
            {
              msg: 'outbox row refused by the broker; it must be delivered, so the relay waits for it',
              topic: rows[0]!.topic,
              eventId: rows[0]!.event_id,
              ...describeError(error),
            },
            'OutboxRelay',
          );
          throw error;
        }
        await tx.query('update outbox set quarantined_at = now(), failure = $2 where id = $1', [
          rows[0]!.id,
          reason,
        ]);
        this.options.logger.error(
          {
            msg: 'outbox row quarantined: the broker refuses it',
            topic: rows[0]!.topic,
            eventId: rows[0]!.event_id,
            ...describeError(error),
          },
          'OutboxRelay',
        );
        this.singleRowRounds = 0;
        return 1;
      }
      if (this.singleRowRounds > 0) this.singleRowRounds--;
      await hooks?.afterSend?.(rows.map((r) => r.event_id));
      await tx.query('update outbox set published_at = now(), failure = null where id = any($1::bigint[])', [
        rows.map((r) => r.id),
      ]);
      return rows.length;
    });
  }

  private async pruneIfDue(): Promise<void> {
    if (Date.now() - this.lastPrune < 60_000) return;
    this.lastPrune = Date.now();
    const keepMs = this.options.keepPublishedMs ?? 60 * 60 * 1000;
    await this.options.dataSource.query(
      `delete from outbox where published_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [keepMs],
    );
  }
}
