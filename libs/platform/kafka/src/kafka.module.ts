import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  SetMetadata,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, Reflector } from '@nestjs/core';
import type { EventContract } from '@veil/contracts';
import { isTransientDatabaseError } from '@veil/platform/database';
import { HealthRegistry, MetricsService } from '@veil/platform/observability';
import type { Admin, Kafka } from 'kafkajs';
import { Gauge } from 'prom-client';
import { DataSource } from 'typeorm';

import { backoffDelay, DEFAULT_BACKOFF, sleep } from './backoff';
import { BatchConsumer, type BatchHandler, type ConsumerMetrics } from './batch-consumer';
import { createKafkaClient, type KafkaSecurity } from './client';
import { describeError } from './errors';
import { pruneInbox } from './inbox';
import { OutboxRelay, OutboxWriter } from './outbox';
import { EventPublisher } from './publisher';

export const KAFKA_CLIENT = Symbol('KAFKA_CLIENT');
const EVENT_CONSUMER = Symbol('veil:event-consumer');
const KAFKA_MODULE_OPTIONS = Symbol('KAFKA_MODULE_OPTIONS');

export interface EventConsumerOptions {
  /** Consumer group; by convention `<service>.<what it does>`. */
  groupId: string;
  contracts: readonly EventContract<unknown>[];
  chunkSize?: number;
  partitionsConsumedConcurrently?: number;
  maxEventBytes?: number;
  /**
   * `false` when the handler itself applies each event at most once, by a natural key written in
   * the same transaction (e.g. a unique event id): the inbox row would only repeat that work.
   */
  inbox?: boolean;
}

/** Marks a provider implementing `BatchHandler` as the handler of a consumer group. */
export const EventConsumer = (options: EventConsumerOptions): ClassDecorator =>
  SetMetadata(EVENT_CONSUMER, options);

export interface KafkaModuleOptions {
  service: string;
  clientId: string;
  brokers: string[];
  security: KafkaSecurity;
  /** Run the outbox relay in this process (a service that writes to its outbox). */
  relayOutbox: boolean;
  /** Default size limit for consumed records (a consumer's own `maxEventBytes` wins). */
  maxEventBytes?: number;
  sessionTimeoutMs?: number;
  /** Days inbox rows are kept; must exceed the retention of every consumed topic. */
  inboxRetentionDays?: number;
}

/** Starts every `@EventConsumer` and the outbox relay after boot; drains them first on shutdown. */
@Injectable()
export class MessagingLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private readonly consumers: BatchConsumer<unknown>[] = [];
  private admin?: Admin;
  private readonly starting: Promise<void>[] = [];
  private stopping = false;
  private readonly abort = new AbortController();
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_MODULE_OPTIONS) private readonly options: KafkaModuleOptions,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly relay: OutboxRelay,
    private readonly health: HealthRegistry,
    private readonly metrics: MetricsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.admin = this.kafka.admin();
    this.health.register('kafka', async () => {
      await this.admin!.describeCluster();
      const unhealthy = this.consumers.filter((c) => !c.healthy).map((c) => c.groupId);
      if (unhealthy.length > 0) throw new Error(`consumers not running: ${unhealthy.join(', ')}`);
    });
    await this.admin.connect().catch((error: unknown) => {
      this.logger.warn({
        msg: 'Kafka not reachable at boot; readiness will say so',
        ...describeError(error),
      });
    });
    this.pruneTimer = setInterval(() => void this.pruneInbox(), 60 * 60 * 1000).unref();

    if (this.options.relayOutbox) this.relay.start();
    this.watchMustDeliver();

    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const meta = this.reflector.get<EventConsumerOptions | undefined>(EVENT_CONSUMER, wrapper.metatype);
      if (!meta) continue;
      const consumer = new BatchConsumer<unknown>({
        kafka: this.kafka,
        dataSource: this.dataSource,
        publisher: this.publisher,
        logger: this.logger,
        groupId: meta.groupId,
        contracts: meta.contracts,
        handler: wrapper.instance as BatchHandler<unknown>,
        isTransientDependencyError: isTransientDatabaseError,
        ...(meta.chunkSize ? { chunkSize: meta.chunkSize } : {}),
        ...(meta.inbox === false ? { inbox: false } : {}),
        ...(meta.partitionsConsumedConcurrently
          ? { partitionsConsumedConcurrently: meta.partitionsConsumedConcurrently }
          : {}),
        maxEventBytes: meta.maxEventBytes ?? this.options.maxEventBytes,
        ...(this.options.sessionTimeoutMs ? { sessionTimeoutMs: this.options.sessionTimeoutMs } : {}),
        metrics: consumerMetrics(this.metrics),
      });
      this.consumers.push(consumer);
      // In the background: a broker that is down at boot delays consuming, not the process.
      this.starting.push(this.startWithRetry(consumer, meta.contracts[0]?.topic.name));
    }
  }

  /**
   * The audit trail must not fall out of the pipeline: while this service holds an audit-trail
   * record it cannot deliver (refused by the broker) or has dead-lettered unresolved, it is not
   * ready, and `veil_must_deliver_stuck_records` says how many.
   */
  private watchMustDeliver(): void {
    const stuck = async (): Promise<{ outbox: number; deadLettered: number }> => {
      const [row] = (await this.dataSource.query(
        'select count(*)::int as n from dead_letter_log where resolved_at is null',
      )) as { n: number }[];
      return {
        outbox: this.options.relayOutbox ? await this.relay.undeliverable() : 0,
        deadLettered: row?.n ?? 0,
      };
    };
    new Gauge({
      name: 'veil_must_deliver_stuck_records',
      help: 'Audit-trail records this service cannot deliver (outbox) or dead-lettered (consumer), unresolved.',
      labelNames: ['where'],
      registers: [this.metrics.registry],
      async collect() {
        const counts = await stuck().catch(() => undefined);
        if (!counts) return;
        this.set({ where: 'outbox' }, counts.outbox);
        this.set({ where: 'dead_letter' }, counts.deadLettered);
      },
    });
    this.health.register('audit-trail', async () => {
      const { outbox, deadLettered } = await stuck();
      const problems = [
        ...(outbox > 0 ? [`${outbox} outbox record(s) the broker refuses`] : []),
        ...(deadLettered > 0 ? [`${deadLettered} dead-lettered record(s) unresolved`] : []),
      ];
      if (problems.length > 0) throw new Error(`audit-trail records stuck: ${problems.join('; ')}`);
    });
  }

  private async startWithRetry(consumer: BatchConsumer<unknown>, topic: string | undefined): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await consumer.start();
        this.logger.log({ msg: 'consumer started', groupId: consumer.groupId, topic });
        return;
      } catch (error) {
        this.logger.warn({
          msg: 'consumer could not start; retrying',
          groupId: consumer.groupId,
          attempt: attempt + 1,
          ...describeError(error),
        });
        await sleep(backoffDelay(attempt, DEFAULT_BACKOFF), this.abort.signal);
      }
    }
  }

  /** Inbox rows only matter while a redelivery can still arrive (the longest topic retention). */
  private async pruneInbox(): Promise<void> {
    try {
      const deleted = await pruneInbox(
        this.dataSource.manager,
        (this.options.inboxRetentionDays ?? 35) * 24 * 3600 * 1000,
      );
      if (deleted > 0) this.logger.log({ msg: 'inbox pruned', deleted });
    } catch (error) {
      this.logger.warn({ msg: 'inbox prune failed', ...describeError(error) });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    clearInterval(this.pruneTimer);
    await Promise.allSettled(this.starting);
    await Promise.all(this.consumers.map((c) => c.stop()));
    await this.relay.stop();
    await this.publisher.disconnect();
    await this.admin?.disconnect();
  }
}

export function consumerMetrics(metrics: MetricsService): ConsumerMetrics {
  return {
    processed: (group, topic, count) => metrics.consumedEvents.inc({ group, topic }, count),
    deadLettered: (group, topic, code) => metrics.deadLetteredEvents.inc({ group, topic, code }),
    retried: (group, topic) => metrics.consumerRetries.inc({ group, topic }),
    batchSeconds: (group, topic, seconds) => metrics.batchSeconds.observe({ group, topic }, seconds),
  };
}

@Global()
@Module({})
export class KafkaModule {
  static forRoot(options: KafkaModuleOptions): DynamicModule {
    return {
      module: KafkaModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: KAFKA_MODULE_OPTIONS, useValue: options },
        {
          provide: KAFKA_CLIENT,
          useFactory: () =>
            createKafkaClient({
              clientId: options.clientId,
              brokers: options.brokers,
              security: options.security,
              logger: new Logger('Kafka'),
            }),
        },
        {
          provide: EventPublisher,
          inject: [KAFKA_CLIENT],
          useFactory: (kafka: Kafka) => new EventPublisher(kafka, options.service),
        },
        { provide: OutboxWriter, useFactory: () => new OutboxWriter(options.service) },
        {
          provide: OutboxRelay,
          inject: [DataSource, EventPublisher],
          useFactory: (dataSource: DataSource, publisher: EventPublisher) =>
            new OutboxRelay({ dataSource, publisher, logger: new Logger('OutboxRelay') }),
        },
        MessagingLifecycle,
      ],
      exports: [KAFKA_CLIENT, EventPublisher, OutboxWriter, OutboxRelay],
    };
  }
}
