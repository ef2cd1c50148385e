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
import { DataSource } from 'typeorm';

import { BatchConsumer, type BatchHandler, type ConsumerMetrics } from './batch-consumer';
import { createKafkaClient } from './client';
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
}

/** Marks a provider implementing `BatchHandler` as the handler of a consumer group. */
export const EventConsumer = (options: EventConsumerOptions): ClassDecorator =>
  SetMetadata(EVENT_CONSUMER, options);

export interface KafkaModuleOptions {
  service: string;
  clientId: string;
  brokers: string[];
  /** Run the outbox relay in this process (a service that writes to its outbox). */
  relayOutbox: boolean;
  /** Default size limit for consumed records (a consumer's own `maxEventBytes` wins). */
  maxEventBytes?: number;
  sessionTimeoutMs?: number;
}

/** Starts every `@EventConsumer` and the outbox relay after boot; drains them first on shutdown. */
@Injectable()
export class MessagingLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Messaging');
  private readonly consumers: BatchConsumer<unknown>[] = [];
  private admin?: Admin;

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
      if (unhealthy.length > 0) throw new Error(`consumers stopped: ${unhealthy.join(', ')}`);
    });
    await this.admin.connect().catch((error: unknown) => {
      this.logger.warn({
        msg: 'Kafka not reachable at boot; readiness will say so',
        reason: (error as Error).message,
      });
    });

    if (this.options.relayOutbox) this.relay.start();

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
        ...(meta.partitionsConsumedConcurrently
          ? { partitionsConsumedConcurrently: meta.partitionsConsumedConcurrently }
          : {}),
        maxEventBytes: meta.maxEventBytes ?? this.options.maxEventBytes,
        ...(this.options.sessionTimeoutMs ? { sessionTimeoutMs: this.options.sessionTimeoutMs } : {}),
        metrics: consumerMetrics(this.metrics),
      });
      await consumer.start();
      this.consumers.push(consumer);
      this.logger.log({
        msg: 'consumer started',
        groupId: meta.groupId,
        topic: meta.contracts[0]?.topic.name,
      });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
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
