import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * One Prometheus registry per process. Labels are low-cardinality names (service, topic, group,
 * error code): never ids, never values, so no PII can reach a metric.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly consumedEvents: Counter<'group' | 'topic'>;
  readonly deadLetteredEvents: Counter<'group' | 'topic' | 'code'>;
  readonly consumerRetries: Counter<'group' | 'topic'>;
  readonly batchSeconds: Histogram<'group' | 'topic'>;

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    this.consumedEvents = new Counter({
      name: 'veil_consumer_events_total',
      help: 'Events applied by the consumer runtime (including duplicates filtered by the inbox).',
      labelNames: ['group', 'topic'],
      registers: [this.registry],
    });
    this.deadLetteredEvents = new Counter({
      name: 'veil_consumer_dead_lettered_total',
      help: 'Records sent to a dead-letter topic, by error code.',
      labelNames: ['group', 'topic', 'code'],
      registers: [this.registry],
    });
    this.consumerRetries = new Counter({
      name: 'veil_consumer_retries_total',
      help: 'Transient failures retried by the consumer runtime.',
      labelNames: ['group', 'topic'],
      registers: [this.registry],
    });
    this.batchSeconds = new Histogram({
      name: 'veil_consumer_batch_seconds',
      help: 'Time to process one fetched batch.',
      labelNames: ['group', 'topic'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
  }
}
