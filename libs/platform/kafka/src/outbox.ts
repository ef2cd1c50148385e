import type { LoggerService } from '@nestjs/common';
import { createEvent, type EventContract, type EventEnvelope, type NewEvent } from '@veil/contracts';
import type { IHeaders, Message } from 'kafkajs';
import { schemaOf } from '@veil/platform/database';
import type { DataSource, EntityManager } from 'typeorm';

import { backoffDelay, DEFAULT_BACKOFF, sleep } from './backoff';
import { toMessage, type EventPublisher } from './publisher';

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
  ): Promise<EventEnvelope<T>> {
    const [event] = await this.enqueueMany(tx, contract, [input]);
    return event!;
  }

  async enqueueMany<T>(
    tx: EntityManager,
    contract: EventContract<T>,
    inputs: Omit<NewEvent<T>, 'producer'>[],
  ): Promise<EventEnvelope<T>[]> {
    if (inputs.length === 0) return [];
    const events = inputs.map((input) => createEvent(contract, { ...input, producer: this.producer }));
    const messages = events.map((event) => toMessage(contract, event));
    await tx.query(
      `insert into outbox (topic, message_key, event_id, organization_id, payload, headers)
       select $1, m.key, m.event_id, m.org, m.payload, m.headers
         from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) as m(key, event_id, org, payload, headers)`,
      [
        contract.topic.name,
        messages.map((m) => String(m.key)),
        events.map((e) => e.eventId),
        events.map((e) => e.organizationId),
        messages.map((m) => String(m.value)),
        messages.map((m) => JSON.stringify(m.headers ?? {})),
      ],
    );
    return events;
  }
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
  private lockKey: string;

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

  /** Pending rows, for metrics and readiness. */
  async pending(): Promise<number> {
    const rows: { n: string }[] = await this.options.dataSource.query(
      'select count(*) as n from outbox where published_at is null',
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
          {
            msg: 'outbox relay round failed, will retry',
            error: (error as Error).name,
            reason: (error as Error).message,
          },
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

  /** One round: returns how many rows it published. */
  async relayOnce(): Promise<number> {
    const { dataSource, publisher, hooks } = this.options;
    return dataSource.transaction(async (tx) => {
      const [lock]: { locked: boolean }[] = await tx.query(
        'select pg_try_advisory_xact_lock(hashtext($1)) as locked',
        [this.lockKey],
      );
      if (!lock?.locked) return 0;
      const rows: OutboxRow[] = await tx.query(
        `select id, topic, message_key, event_id, payload, headers
           from outbox where published_at is null order by id limit $1`,
        [this.options.batchSize ?? 500],
      );
      if (rows.length === 0) return 0;
      const byTopic = new Map<string, Message[]>();
      for (const row of rows) {
        const messages = byTopic.get(row.topic) ?? [];
        messages.push({ key: row.message_key, value: row.payload, headers: row.headers });
        byTopic.set(row.topic, messages);
      }
      await publisher.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
      await hooks?.afterSend?.(rows.map((r) => r.event_id));
      await tx.query('update outbox set published_at = now() where id = any($1::bigint[])', [
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
