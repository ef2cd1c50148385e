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
import { refusedBatchOf } from './compression';
import { classifyError, describeError, errorCode, PermanentError } from './errors';
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
  /** `false`: the handler de-duplicates by a natural key itself (see EventConsumerOptions.inbox). */
  inbox?: boolean;
  partitionsConsumedConcurrently?: number;
  backoff?: BackoffPolicy;
  metrics?: ConsumerMetrics;
  fromBeginning?: boolean;
  /** Fetch size per partition; with `chunkSize` it bounds how many events share a transaction. */
  maxBytesPerPartition?: number;
  /** How long the group waits for a silent member (e.g. one killed with SIGKILL) before rebalancing. */
  sessionTimeoutMs?: number;
  /**
   * Dead-letter records keep the original value when it fits; a larger value (e.g. a record
   * rejected as too large) is left out, with its size in a header, so the DLQ write cannot fail.
   */
  maxDeadLetterValueBytes?: number;
}

export const DLQ_HEADERS = {
  originalTopic: 'veil-dlq-original-topic',
  originalPartition: 'veil-dlq-original-partition',
  originalOffset: 'veil-dlq-original-offset',
  errorCode: 'veil-dlq-error-code',
  errorDetail: 'veil-dlq-error-detail',
  consumerGroup: 'veil-dlq-consumer-group',
  failedAt: 'veil-dlq-failed-at',
  valueOmittedBytes: 'veil-dlq-value-omitted-bytes',
} as const;

type Decoded<T> =
  { message: KafkaMessage; consumed: ConsumedEvent<T> } | { message: KafkaMessage; failure: Failure };
interface Failure {
  code: string;
  detail: string;
  /** A placeholder for a record of a compressed batch refused as too large (see compression.ts). */
  refusedBatch?: boolean;
}

/** The partition is no longer ours (rebalance) or we are stopping: leave the batch untouched. */
class StopBatch extends Error {}

const LOST_MEMBERSHIP = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
]);
/** Unknown-error dead-letters in a row after which the runtime assumes a systemic fault and pauses. */
const MAX_UNKNOWN_STREAK = 3;
/** Placeholders of a refused batch dead-lettered per send (a batch may hold thousands of records). */
const REFUSED_BATCH_RUN = 500;

/** Per-batch state: whether kafkajs told us (through a heartbeat) that the partition moved on. */
interface BatchScope {
  payload: EachBatchPayload;
  lost: boolean;
}

/**
 * Veil's consumer runtime on kafkajs. Unlike NestJS's Kafka transport (retry forever on any error,
 * one message at a time, no dead-letter topic) it:
 * - consumes batches (`eachBatch`), keeping per-partition order;
 * - applies each chunk of fresh events and its inbox rows in one database transaction, and commits
 *   the offsets only after that transaction commits (effectively once, invariant 3);
 * - dead-letters malformed records and permanent handler errors on the first attempt, with the
 *   original topic/partition/offset, error code and consumer group in headers, and never logs a
 *   payload (invariant 4);
 * - dead-letters every offset of a compressed batch that would decompress past
 *   MAX_BATCH_DECOMPRESSED_BYTES (payload_too_large, no key or value: they were never read),
 *   where kafkajs alone would fail the fetch and retry it forever;
 * - retries transient errors with jittered exponential backoff, pausing the partition between
 *   rounds and never dead-lettering them;
 * - heartbeats during long batches, stops as soon as a heartbeat reports a rebalance, and drains
 *   the chunk in hand on shutdown.
 * Offset commits are not handler errors: a failed commit (e.g. a rebalance) goes back to kafkajs,
 * which rejoins the group; the inbox makes the redelivery harmless.
 */
export class BatchConsumer<T> {
  private consumer?: Consumer;
  private readonly abort = new AbortController();
  private readonly topic: string;
  private readonly deadLetterTopic: string;
  /** The topic's records must never silently leave the pipeline (TopicSpec.mustDeliver). */
  private readonly mustDeliver: boolean;
  private readonly backoff: BackoffPolicy;
  private readonly chunkSize: number;
  private crashed?: Error;
  private unknownStreak = 0;

  constructor(private readonly options: BatchConsumerOptions<T>) {
    const topics = new Set(options.contracts.map((c) => c.topic.name));
    if (topics.size !== 1)
      throw new Error(`a BatchConsumer reads exactly one topic, got ${[...topics].join(', ')}`);
    const topic = options.contracts[0]!.topic;
    if (!topic.deadLetter) throw new Error(`topic ${topic.name} has no dead-letter topic`);
    this.topic = topic.name;
    this.deadLetterTopic = topic.deadLetter.name;
    this.mustDeliver = topic.mustDeliver === true;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.chunkSize = options.chunkSize ?? 2000;
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Running and not given up on by kafkajs (which restarts on its own otherwise). */
  get healthy(): boolean {
    return this.consumer !== undefined && this.crashed === undefined;
  }

  async start(): Promise<void> {
    if (this.consumer) return;
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
        { msg: 'consumer crashed', groupId, ...describeError(payload.error), restart: payload.restart },
        'BatchConsumer',
      );
      if (!payload.restart) this.crashed = payload.error;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.crashed = undefined;
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: this.options.fromBeginning ?? true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.consumer = consumer;
  }

  /** Graceful drain: the chunk in hand finishes and commits, then the consumer leaves the group. */
  async stop(): Promise<void> {
    this.abort.abort();
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.disconnect();
  }

  private owned(scope: BatchScope): boolean {
    return !scope.lost && scope.payload.isRunning() && !scope.payload.isStale() && !this.abort.signal.aborted;
  }

  /** Heartbeats; a rebalance reported here means the partition may already belong to someone else. */
  private async beat(scope: BatchScope): Promise<void> {
    try {
      await scope.payload.heartbeat();
    } catch (error) {
      if (LOST_MEMBERSHIP.has((error as { type?: string }).type ?? '')) scope.lost = true;
    }
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const started = process.hrtime.bigint();
    const scope: BatchScope = { payload, lost: false };
    const decoded = batch.messages.map((m) => this.decode(batch.topic, batch.partition, m));

    // Keep heartbeating while a long chunk is inside the handler.
    const heartbeat = setInterval(() => void this.beat(scope), 2_000);
    try {
      let i = 0;
      while (i < decoded.length) {
        if (!this.owned(scope)) return;
        const first = decoded[i]!;
        if ('failure' in first) {
          const run = [first.message];
          while (first.failure.refusedBatch && run.length < REFUSED_BATCH_RUN) {
            const next = decoded[i + run.length];
            if (!next || !('failure' in next) || !next.failure.refusedBatch) break;
            if (next.failure.detail !== first.failure.detail) break; // another refused batch, another codec
            run.push(next.message);
          }
          await this.deadLetter(payload, run, first.failure);
          await this.commit(payload, run[run.length - 1]!.offset);
          i += run.length;
          continue;
        }
        const chunk: ConsumedEvent<T>[] = [];
        while (i < decoded.length && chunk.length < this.chunkSize) {
          const next = decoded[i]!;
          if ('failure' in next) break;
          chunk.push(next.consumed);
          i++;
        }
        if (!(await this.applyWithRetry(scope, chunk))) return; // paused or no longer ours: redelivered later
        await this.beat(scope);
      }
    } catch (error) {
      if (error instanceof StopBatch) return;
      throw error; // offset commit or dead-letter write failed: kafkajs restarts/rejoins, nothing is lost
    } finally {
      clearInterval(heartbeat);
      this.options.metrics?.batchSeconds(
        this.groupId,
        this.topic,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    }
  }

  private decode(topic: string, partition: number, message: KafkaMessage): Decoded<T> {
    const refused = refusedBatchOf(message);
    if (refused) {
      const detail = `the ${refused.codec}-compressed record batch holding this offset exceeds the ${refused.limitBytes}-byte decompression cap; none of its records were read`;
      return { message, failure: { code: 'payload_too_large', detail, refusedBatch: true } };
    }
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
   * Applies a chunk, retrying what may pass. Returns false when the partition was paused for a
   * cooldown or is no longer ours: nothing more was committed, and kafkajs fetches it again later.
   */
  private async applyWithRetry(scope: BatchScope, chunk: ConsumedEvent<T>[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      let failure: unknown;
      try {
        await this.apply(chunk);
      } catch (error) {
        failure = error;
      }
      if (failure === undefined) {
        this.unknownStreak = 0;
        await this.commit(scope.payload, chunk[chunk.length - 1]!.offset); // outside the classification on purpose
        return true;
      }

      const kind = classifyError(failure, this.options.isTransientDependencyError);
      const roundOver = attempt + 1 >= this.backoff.attemptsPerRound;
      if (kind === 'permanent' || (kind === 'unknown' && roundOver)) {
        if (chunk.length > 1) return this.isolate(scope, chunk);
        // A must-deliver topic's events are never dead-lettered for an error nobody understood.
        if (kind === 'permanent' || (!this.mustDeliver && this.unknownStreak < MAX_UNKNOWN_STREAK)) {
          if (kind === 'unknown') this.unknownStreak++;
          await this.deadLetterEvent(scope.payload, chunk[0]!, failure);
          return true;
        }
        this.options.logger.error(
          {
            msg: 'repeated unexpected handler errors; pausing instead of dead-lettering',
            groupId: this.groupId,
            ...describeError(failure),
          },
          'BatchConsumer',
        );
      }

      this.options.metrics?.retried(this.groupId, this.topic);
      this.options.logger.warn(
        {
          msg: 'handler failed, will retry',
          groupId: this.groupId,
          topic: this.topic,
          partition: chunk[0]!.partition,
          offset: chunk[0]!.offset,
          attempt: attempt + 1,
          ...describeError(failure),
        },
        'BatchConsumer',
      );
      if (roundOver) {
        const resume = scope.payload.pause();
        setTimeout(resume, this.backoff.cooldownMs).unref();
        return false;
      }
      await sleep(backoffDelay(attempt, this.backoff), this.abort.signal);
      await this.beat(scope);
      if (!this.owned(scope)) return false;
    }
  }

  /** One transaction: claim inbox rows, hand the fresh events to the handler, commit. */
  private async apply(chunk: ConsumedEvent<T>[]): Promise<void> {
    const unique = new Map<string, ConsumedEvent<T>>();
    for (const c of chunk) if (!unique.has(c.event.eventId)) unique.set(c.event.eventId, c);
    await this.options.dataSource.transaction(async (tx) => {
      if (this.options.inbox === false) {
        await this.options.handler.handle([...unique.values()], tx);
        return;
      }
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
   * A chunk failed for good: apply its events one by one so that only the guilty ones are
   * dead-lettered and the rest keep their effects. Order within the partition is preserved.
   */
  private async isolate(scope: BatchScope, chunk: ConsumedEvent<T>[]): Promise<boolean> {
    for (const single of chunk) {
      if (!this.owned(scope)) throw new StopBatch();
      if (!(await this.applyWithRetry(scope, [single]))) throw new StopBatch();
    }
    return true;
  }

  private async deadLetterEvent(
    payload: EachBatchPayload,
    event: ConsumedEvent<T>,
    error: unknown,
  ): Promise<void> {
    const message = payload.batch.messages.find((m) => m.offset === event.offset);
    if (!message) throw new Error(`offset ${event.offset} not in batch`);
    const detail = error instanceof PermanentError ? error.message : 'the handler failed on this event';
    await this.deadLetter(payload, [message], { code: errorCode(error), detail });
    await this.commit(payload, event.offset);
  }

  /** Dead-letters `messages` (consecutive offsets of the batch) for the same failure, in one send. */
  private async deadLetter(
    payload: EachBatchPayload,
    messages: KafkaMessage[],
    failure: Failure,
  ): Promise<void> {
    const { topic, partition } = payload.batch;
    const limit = this.options.maxDeadLetterValueBytes ?? 900 * 1024;
    const failedAt = new Date().toISOString();
    await this.options.publisher.send(
      this.deadLetterTopic,
      messages.map((message) => {
        const omit = (message.value?.length ?? 0) > limit;
        return {
          key: message.key,
          value: omit ? null : message.value,
          headers: {
            ...(message.headers ?? {}),
            [DLQ_HEADERS.originalTopic]: topic,
            [DLQ_HEADERS.originalPartition]: String(partition),
            [DLQ_HEADERS.originalOffset]: message.offset,
            [DLQ_HEADERS.errorCode]: failure.code,
            [DLQ_HEADERS.errorDetail]: failure.detail.slice(0, 1000),
            [DLQ_HEADERS.consumerGroup]: this.groupId,
            [DLQ_HEADERS.failedAt]: failedAt,
            ...(omit ? { [DLQ_HEADERS.valueOmittedBytes]: String(message.value?.length ?? 0) } : {}),
          },
        };
      }),
    );
    for (const _ of messages) this.options.metrics?.deadLettered(this.groupId, topic, failure.code);
    if (this.mustDeliver) {
      // Before the offset moves past them: the service stays not ready until an operator resolves them.
      await this.options.dataSource.query(
        `insert into dead_letter_log (consumer_group, topic, partition, "offset", error_code)
         select $1, $2, $3, o::bigint, $4 from unnest($5::text[]) as o on conflict do nothing`,
        [this.groupId, topic, partition, failure.code, messages.map((m) => m.offset)],
      );
    }
    // Never the payload: only where it was and why it failed.
    this.options.logger.warn(
      {
        msg: 'dead-lettered',
        groupId: this.groupId,
        topic,
        partition,
        offset: messages[0]!.offset,
        ...(messages.length > 1 ? { lastOffset: messages[messages.length - 1]!.offset } : {}),
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
