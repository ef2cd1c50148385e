import {
  createEvent,
  encodeEvent,
  type EventContract,
  type EventEnvelope,
  type NewEvent,
} from '@veil/contracts';
import { type IHeaders, type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';

export const EVENT_HEADERS = {
  eventType: 'veil-event-type',
  eventVersion: 'veil-event-version',
  eventId: 'veil-event-id',
  organizationId: 'veil-organization-id',
  correlationId: 'veil-correlation-id',
  contentType: 'content-type',
} as const;

export function eventHeaders(event: EventEnvelope<unknown>): IHeaders {
  return {
    [EVENT_HEADERS.eventType]: event.eventType,
    [EVENT_HEADERS.eventVersion]: String(event.eventVersion),
    [EVENT_HEADERS.eventId]: event.eventId,
    [EVENT_HEADERS.organizationId]: event.organizationId,
    ...(event.correlationId ? { [EVENT_HEADERS.correlationId]: event.correlationId } : {}),
    [EVENT_HEADERS.contentType]: 'application/json',
  };
}

/** The message for an event: validated by its contract, keyed for per-key ordering. */
export function toMessage<T>(contract: EventContract<T>, event: EventEnvelope<T>): Message {
  return {
    key: contract.key(event.data, event.organizationId),
    value: encodeEvent(event),
    headers: eventHeaders(event),
  };
}

/**
 * Veil's producer: idempotent, `acks=-1` (all in-sync replicas), one request in flight so
 * retries cannot reorder records. `send` resolves only once the broker has acknowledged.
 */
export class EventPublisher {
  private producer: Producer;
  private connected?: Promise<void>;

  constructor(
    private readonly kafka: Kafka,
    private readonly producerName: string,
  ) {
    this.producer = this.createProducer();
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Bounded, so callers see a failure and back off; see `send` for what keeps ordering safe.
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    });
    return this.connected;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = undefined;
    await this.producer.disconnect();
  }

  /** Validates, then publishes one event and waits for the broker's acknowledgement. */
  async publish<T>(
    contract: EventContract<T>,
    input: Omit<NewEvent<T>, 'producer'>,
  ): Promise<EventEnvelope<T>> {
    const event = createEvent(contract, { ...input, producer: this.producerName });
    await this.send(contract.topic.name, [toMessage(contract, event)]);
    return event;
  }

  /** Sends already-built messages (outbox relay, dead-letter records) with acks=-1. */
  async send(topic: string, messages: Message[]): Promise<void> {
    await this.sendBatch([{ topic, messages }]);
  }

  async sendBatch(topicMessages: { topic: string; messages: Message[] }[]): Promise<void> {
    await this.connect();
    const used = this.producer;
    try {
      await used.sendBatch({ topicMessages, acks: -1 });
    } catch (error) {
      // After exhausted retries an idempotent producer's sequence numbers may be out of step with
      // the broker's. A fresh producer (new producer id) starts clean; callers retry the send.
      await this.reset(used);
      throw error;
    }
  }

  /** Replaces `failed` unless a concurrent failure already did (so a fresh producer is not thrown away). */
  private async reset(failed: Producer): Promise<void> {
    if (this.producer !== failed) return;
    this.producer = this.createProducer();
    this.connected = undefined;
    await failed.disconnect().catch(() => undefined);
  }
}
