import type { LoggerService } from '@nestjs/common';
import {
  decodeEvent,
  DEFAULT_MAX_EVENT_BYTES,
  type EventContract,
  type EventEnvelope,
} from '@veil/contracts';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { DataSource, EntityManager } from 'typeorm';

import { backoffDelay, DEFAULT_BACKOFF, sleep, type BackoffPolicy } from './backoff';
import { classifyError, errorCode, PermanentError } from './errors';
import { claimInbox } from './inbox';
import type { EventPublisher } from './publisher';

export interface ConsumedEvent<T> {
  event: EventEnvelope<T>;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: IHeaders;
}

/**
 * A batch handler applies fresh (never seen by its consumer group) events inside the transaction
 * the runtime opened. The runtime commits the transaction, then the offsets.
 */
export interface BatchHandler<T> {
  handle(events: ConsumedEvent<T>[], tx: EntityManager): Promise<void>;
}

export interface ConsumerMetrics {
  processed(group: string, topic: string, count: number): void;
  deadLettered(group: string, topic: string, code: string): void;
  retried(group: string, topic: string): void;
  batchSeconds(group: string, topic: string, seconds: number): void;
}

export interface BatchConsumerOptions<T> {
  kafka: Kafka;
  dataSource: DataSource;
  publisher: EventPublisher;
  logger: LoggerService;
  groupId: string;
  /** The contracts accepted on the topic (all on the same topic). */
  contracts: readonly EventContract<T>[];
  handler: BatchHandler<T>;
  isTransientDependencyError: (error: unknown) => boolean;
  maxEventBytes?: number;
  /** Events per database transaction. */
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  backoff?: BackoffPolicy;
  metrics?: ConsumerMetrics;
  fromBeginning?: boolean;
  /** Fetch size per partition; with `chunkSize` it bounds how many events share a transaction. */
  maxBytesPerPartition?: number;
  /** How long the group waits for a silent member (e.g. one killed with SIGKILL) before rebalancing. */
  sessionTimeoutMs?: number;
}

export const DLQ_HEADERS = {
  originalTopic: 'veil-dlq-original-topic',
  originalPartition: 'veil-dlq-original-partition',
  originalOffset: 'veil-dlq-original-offset',
  errorCode: 'veil-dlq-error-code',
  errorDetail: 'veil-dlq-error-detail',
  consumerGroup: 'veil-dlq-consumer-group',
  failedAt: 'veil-dlq-failed-at',
} as const;

type Decoded<T> =
  { message: KafkaMessage; consumed: ConsumedEvent<T> } | { message: KafkaMessage; failure: Failure };
interface Failure {
  code: string;
  detail: string;
}

class StopBatch extends Error {}

/**
 * Veil's consumer runtime on kafkajs. Unlike NestJS's Kafka transport (retry forever on any error,
 * one message at a time, no dead-letter topic) it:
 * - consumes batches (`eachBatch`), keeping per-partition order;
 * - applies each chunk of fresh events and its inbox rows in one database transaction, and commits
 *   the offsets only after that transaction commits (effectively once, invariant 3);
 * - dead-letters malformed records and permanent handler errors on the first attempt, with the
 *   original topic/partition/offset, error code and consumer group in headers, and never logs a
 *   payload (invariant 4);
 * - retries transient errors with jittered exponential backoff, pausing the partition between
 *   rounds and never dead-lettering them;
 * - heartbeats during long batches and drains the chunk in hand on shutdown.
 */
export class BatchConsumer<T> {
  private consumer?: Consumer;
  private readonly abort = new AbortController();
  private readonly topic: string;
  private readonly deadLetterTopic: string;
  private readonly backoff: BackoffPolicy;
  private readonly chunkSize: number;
  private crashed?: Error;

  constructor(private readonly options: BatchConsumerOptions<T>) {
    const topics = new Set(options.contracts.map((c) => c.topic.name));
    if (topics.size !== 1)
      throw new Error(`a BatchConsumer reads exactly one topic, got ${[...topics].join(', ')}`);
    const topic = options.contracts[0]!.topic;
    if (!topic.deadLetter) throw new Error(`topic ${topic.name} has no dead-letter topic`);
    this.topic = topic.name;
    this.deadLetterTopic = topic.deadLetter.name;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.chunkSize = options.chunkSize ?? 2000;
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Not ready when kafkajs gave up on the consumer (it restarts on its own otherwise). */
  get healthy(): boolean {
    return this.consumer !== undefined && this.crashed === undefined;
  }

  async start(): Promise<void> {
    const { kafka, groupId } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      rebalanceTimeout: 60_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 500,
      maxBytesPerPartition: this.options.maxBytesPerPartition ?? 2 * 1024 * 1024,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 300, retries: 10, maxRetryTime: 10_000, restartOnFailure: async () => true },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.options.logger.error(
        { msg: 'consumer crashed', groupId, error: payload.error?.name, restart: payload.restart },
        'BatchConsumer',
      );
      if (!payload.restart) this.crashed = payload.error;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.crashed = undefined;
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.topic], fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.consumer = consumer;
  }

  /** Graceful drain: the chunk in hand finishes and commits, then the consumer leaves the group. */
  async stop(): Promise<void> {
    this.abort.abort();
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale } = payload;
    const started = process.hrtime.bigint();
    const decoded = batch.messages.map((m) => this.decode(batch.topic, batch.partition, m));
    const stillOwned = () => isRunning() && !isStale() && !this.abort.signal.aborted;

    // Keep a heartbeat going while a long chunk is inside the handler.
    const heartbeat = setInterval(() => void payload.heartbeat().catch(() => undefined), 2_000);
    try {
      let i = 0;
      while (i < decoded.length) {
        if (!stillOwned()) return;
        const first = decoded[i]!;
        if ('failure' in first) {
          await this.deadLetter(payload, first.message, first.failure);
          await this.commit(payload, first.message.offset);
          i++;
          continue;
        }
        const chunk: ConsumedEvent<T>[] = [];
        while (i < decoded.length && chunk.length < this.chunkSize) {
          const next = decoded[i]!;
          if ('failure' in next) break;
          chunk.push(next.consumed);
          i++;
        }
        const completed = await this.applyWithRetry(payload, chunk);
        if (!completed) return; // paused for a cooldown or lost the partition; redelivered later
        await payload.heartbeat().catch(() => undefined);
      }
    } catch (error) {
      if (error instanceof StopBatch) return;
      throw error;
    } finally {
      clearInterval(heartbeat);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.metrics?.batchSeconds(this.groupId, this.topic, seconds);
    }
  }

  private decode(topic: string, partition: number, message: KafkaMessage): Decoded<T> {
    const result = decodeEvent(
      this.options.contracts,
      message.value,
      this.options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
    );
    if (!result.ok) return { message, failure: { code: result.code, detail: result.details.join('; ') } };
    return {
      message,
      consumed: {
        event: result.event as EventEnvelope<T>,
        topic,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString('utf8') : null,
        headers: message.headers ?? {},
      },
    };
  }

  /**
   * Applies a chunk, retrying transient failures. Returns false when the partition was paused for a
   * cooldown (or is no longer ours): nothing was committed, and kafkajs fetches it again later.
   */
  private async applyWithRetry(payload: EachBatchPayload, chunk: ConsumedEvent<T>[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.apply(chunk);
        await this.commit(payload, chunk[chunk.length - 1]!.offset);
        return true;
      } catch (error) {
        if (error instanceof StopBatch) throw error;
        if (classifyError(error, this.options.isTransientDependencyError) === 'permanent') {
          await this.isolate(payload, chunk, error);
          return true;
        }
        this.options.metrics?.retried(this.groupId, this.topic);
        this.options.logger.warn(
          {
            msg: 'transient error, will retry',
            groupId: this.groupId,
            topic: this.topic,
            partition: chunk[0]!.partition,
            offset: chunk[0]!.offset,
            attempt: attempt + 1,
            error: (error as Error).name,
            reason: (error as Error).message,
          },
          'BatchConsumer',
        );
        if (attempt + 1 >= this.backoff.attemptsPerRound) {
          const resume = payload.pause();
          setTimeout(resume, this.backoff.cooldownMs).unref();
          return false;
        }
        await sleep(backoffDelay(attempt, this.backoff), this.abort.signal);
        if (!payload.isRunning() || payload.isStale() || this.abort.signal.aborted) return false;
        await payload.heartbeat().catch(() => undefined);
      }
    }
  }

  /** One transaction: claim inbox rows, hand the fresh events to the handler, commit. */
  private async apply(chunk: ConsumedEvent<T>[]): Promise<void> {
    const unique = new Map<string, ConsumedEvent<T>>();
    for (const c of chunk) if (!unique.has(c.event.eventId)) unique.set(c.event.eventId, c);
    await this.options.dataSource.transaction(async (tx) => {
      const fresh = await claimInbox(
        tx,
        this.groupId,
        [...unique.values()].map((c) => ({
          eventId: c.event.eventId,
          topic: c.topic,
          partition: c.partition,
          offset: c.offset,
        })),
      );
      const events = [...unique.values()].filter((c) => fresh.has(c.event.eventId));
      if (events.length > 0) await this.options.handler.handle(events, tx);
    });
    this.options.metrics?.processed(this.groupId, this.topic, chunk.length);
  }

  /**
   * A chunk failed permanently: apply its events one by one so that only the guilty ones are
   * dead-lettered and the rest keep their effects. Order within the partition is preserved.
   */
  private async isolate(payload: EachBatchPayload, chunk: ConsumedEvent<T>[], error: unknown): Promise<void> {
    if (chunk.length === 1) {
      await this.deadLetterEvent(payload, chunk[0]!, error);
      return;
    }
    for (const single of chunk) {
      if (this.abort.signal.aborted || !payload.isRunning() || payload.isStale()) throw new StopBatch();
      const ok = await this.applyWithRetry(payload, [single]);
      if (!ok) throw new StopBatch();
    }
  }

  private async deadLetterEvent(
    payload: EachBatchPayload,
    event: ConsumedEvent<T>,
    error: unknown,
  ): Promise<void> {
    const message = payload.batch.messages.find((m) => m.offset === event.offset);
    if (!message) throw new Error(`offset ${event.offset} not in batch`);
    const detail = error instanceof PermanentError ? error.message : 'the handler rejected the event';
    await this.deadLetter(payload, message, { code: errorCode(error), detail });
    await this.commit(payload, event.offset);
  }

  private async deadLetter(
    payload: EachBatchPayload,
    message: KafkaMessage,
    failure: Failure,
  ): Promise<void> {
    const { topic, partition } = payload.batch;
    await this.options.publisher.send(this.deadLetterTopic, [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...(message.headers ?? {}),
          [DLQ_HEADERS.originalTopic]: topic,
          [DLQ_HEADERS.originalPartition]: String(partition),
          [DLQ_HEADERS.originalOffset]: message.offset,
          [DLQ_HEADERS.errorCode]: failure.code,
          [DLQ_HEADERS.errorDetail]: failure.detail.slice(0, 1000),
          [DLQ_HEADERS.consumerGroup]: this.groupId,
          [DLQ_HEADERS.failedAt]: new Date().toISOString(),
        },
      },
    ]);
    this.options.metrics?.deadLettered(this.groupId, topic, failure.code);
    // Never the payload: only where it was and why it failed.
    this.options.logger.warn(
      {
        msg: 'dead-lettered',
        groupId: this.groupId,
        topic,
        partition,
        offset: message.offset,
        code: failure.code,
        detail: failure.detail,
      },
      'BatchConsumer',
    );
  }

  private async commit(payload: EachBatchPayload, offset: string): Promise<void> {
    const { topic, partition } = payload.batch;
    payload.resolveOffset(offset);
    await payload.commitOffsetsIfNecessary({
      topics: [{ topic, partitions: [{ partition, offset: (BigInt(offset) + 1n).toString() }] }],
    });
  }
}
