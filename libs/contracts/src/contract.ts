import { z } from 'zod';

const DAY_MS = 24 * 60 * 60 * 1000;

export const retention = {
  days: (n: number): number => n * DAY_MS,
  forever: -1,
} as const;

/** A Kafka topic as Veil creates it. Partition counts and retention are explicit, never broker defaults. */
export interface TopicSpec {
  readonly name: string;
  readonly description: string;
  readonly partitions: number;
  /** Milliseconds; -1 keeps records forever. */
  readonly retentionMs: number;
  /** Environment variable that overrides `retentionMs` at topic creation, if any. */
  readonly retentionEnv?: string;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** Only the intake topic and its dead-letter topic may ever carry plaintext PII (invariant 1). */
  readonly carriesPii: boolean;
  /**
   * Records that must never fall out of the pipeline (the audit trail): an outbox relay retries a
   * refused one instead of setting it aside, a consumer retries unknown errors instead of
   * dead-lettering, and a service holding one that cannot move (or that dead-lettered one) is
   * not ready until an operator resolves it.
   */
  readonly mustDeliver?: boolean;
  /**
   * Who writes and who reads the topic, as they exist today (empty: nobody yet): a service name,
   * `upstream` (the identity-verification systems that publish inquiries), `witness` (outsiders
   * following the signed checkpoints) or `operators`. The broker's ACLs are made from these lists
   * (tools/setup.ts): each party may produce and consume exactly what they say.
   */
  readonly producers: readonly string[];
  readonly consumers: readonly string[];
  /** The dead-letter topic that receives records this topic's consumers cannot process. */
  readonly deadLetter?: TopicSpec;
}

/** One event type at one version on one topic: its payload schema, partition key and an example. */
export interface EventContract<TData = unknown> {
  readonly topic: TopicSpec;
  readonly eventType: string;
  readonly eventVersion: number;
  readonly description: string;
  readonly data: z.ZodType<TData>;
  /** The record key; it fixes the partition and therefore the order consumers see. */
  key(data: TData, organizationId: string): string;
  readonly example: { organizationId: string; data: TData };
}

export type DataOf<C> = C extends EventContract<infer T> ? T : never;

export function defineTopic(
  spec: Omit<TopicSpec, 'deadLetter'> & { deadLetterRetentionMs?: number },
): TopicSpec {
  const { deadLetterRetentionMs, ...topic } = spec;
  const deadLetter: TopicSpec = {
    name: `${topic.name}.dlq`,
    description: `Records of \`${topic.name}\` that a consumer could not process, with the reason in headers.`,
    partitions: 1,
    retentionMs: deadLetterRetentionMs ?? topic.retentionMs,
    ...(topic.retentionEnv ? { retentionEnv: topic.retentionEnv } : {}),
    cleanupPolicy: 'delete',
    carriesPii: topic.carriesPii,
    producers: topic.consumers,
    consumers: ['operators'],
  };
  return { ...topic, deadLetter };
}

export function defineEvent<TData>(contract: EventContract<TData>): EventContract<TData> {
  return contract;
}
