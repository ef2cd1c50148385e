import type { EventContract, TopicSpec } from './contract';
import { AuditCheckpointSigned } from './topics/audit-checkpoints';
import { AuditEvent } from './topics/audit-events';
import { DsarLifecycle } from './topics/dsar-lifecycle';
import { InquiryCreated } from './topics/inquiry-created';
import { InquiryRecorded } from './topics/inquiry-recorded';
import { PiiRedacted, PiiRedactionApplied, PiiRedactionRequested } from './topics/pii-redaction';

/** Every event Veil knows, at every version it accepts. Topic creation and docs/events.md derive from it. */
export const EVENT_CONTRACTS: readonly EventContract<unknown>[] = [
  InquiryCreated,
  InquiryRecorded,
  PiiRedactionRequested,
  PiiRedacted,
  PiiRedactionApplied,
  DsarLifecycle,
  AuditEvent,
  AuditCheckpointSigned,
];

/** Every topic Veil creates: each event topic followed by its dead-letter topic. */
export const TOPICS: readonly TopicSpec[] = (() => {
  const byName = new Map<string, TopicSpec>();
  for (const contract of EVENT_CONTRACTS) {
    const topic = contract.topic;
    if (!byName.has(topic.name)) byName.set(topic.name, topic);
    if (topic.deadLetter && !byName.has(topic.deadLetter.name))
      byName.set(topic.deadLetter.name, topic.deadLetter);
  }
  return [...byName.values()];
})();

export function contractsForTopic(topicName: string): EventContract<unknown>[] {
  return EVENT_CONTRACTS.filter((c) => c.topic.name === topicName);
}

export function topicByName(name: string): TopicSpec | undefined {
  return TOPICS.find((t) => t.name === name);
}

/** Retention actually applied to a topic: the spec's default unless its override variable is set. */
export function effectiveRetentionMs(topic: TopicSpec, env: NodeJS.ProcessEnv = process.env): number {
  const override = topic.retentionEnv ? env[topic.retentionEnv] : undefined;
  if (override === undefined || override === '') return topic.retentionMs;
  const ms = Number(override);
  if (!Number.isInteger(ms) || (ms < 60_000 && ms !== -1)) {
    throw new Error(
      `${topic.retentionEnv} must be an integer number of milliseconds >= 60000 (or -1), got "${override}"`,
    );
  }
  return ms;
}

/**
 * How often a topic that carries PII starts a new log segment (`segment.ms`): Kafka deletes whole
 * segments only, so a record can outlive its retention by up to this much (one day at most).
 */
export function segmentMs(topic: TopicSpec, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const retentionMs = effectiveRetentionMs(topic, env);
  if (!topic.carriesPii || retentionMs < 0) return undefined;
  return Math.min(retentionMs, 24 * 60 * 60 * 1000);
}

/** The broker's default `log.retention.check.interval.ms`: how late after its time a segment may go. */
const RETENTION_CHECK_INTERVAL_MS = 5 * 60 * 1000;

/**
 * The longest a raw record can stay on a topic that carries PII (and its dead-letter topic) after
 * it was written: retention, plus the segment it sits in, plus the broker's retention check.
 */
export function rawRecordLifetimeMs(
  topic: TopicSpec,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const segment = segmentMs(topic, env);
  if (segment === undefined) return undefined;
  return effectiveRetentionMs(topic, env) + segment + RETENTION_CHECK_INTERVAL_MS;
}
