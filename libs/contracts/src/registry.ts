import type { EventContract, TopicSpec } from './contract';
import { AuditCheckpointSigned } from './topics/audit-checkpoints';
import { AuditEvent } from './topics/audit-events';
import { DsarLifecycle } from './topics/dsar-lifecycle';
import { InquiryCreated } from './topics/inquiry-created';
import { InquiryRecorded } from './topics/inquiry-recorded';
import { PiiRedacted, PiiRedactionRequested } from './topics/pii-redaction';

/** Every event Veil knows, at every version it accepts. Topic creation and docs/events.md derive from it. */
export const EVENT_CONTRACTS: readonly EventContract<unknown>[] = [
  InquiryCreated,
  InquiryRecorded,
  PiiRedactionRequested,
  PiiRedacted,
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
