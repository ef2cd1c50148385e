import { effectiveRetentionMs, segmentMs, type TopicSpec } from '@veil/contracts';
import { ConfigResourceTypes, type Kafka } from 'kafkajs';

export interface TopicReport {
  created: string[];
  updated: string[];
  unchanged: string[];
}

function topicConfig(topic: TopicSpec, env: NodeJS.ProcessEnv): Record<string, string> {
  const segment = segmentMs(topic, env);
  return {
    'retention.ms': String(effectiveRetentionMs(topic, env)),
    'cleanup.policy': topic.cleanupPolicy,
    'min.insync.replicas': '1',
    // PII leaves with whole segments: short ones, so it does not outlive its retention by a week
    ...(segment !== undefined ? { 'segment.ms': String(segment) } : {}),
  };
}

/**
 * Creates Veil's topics from their contracts with explicit partitions, retention and cleanup
 * policy, and brings the retention of existing topics back in line. Partitions are never
 * reduced (Kafka cannot); a topic with fewer partitions than its spec is grown.
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly TopicSpec[],
  options: { replicationFactor?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<TopicReport> {
  const env = options.env ?? process.env;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    const report: TopicReport = { created: missing.map((t) => t.name), updated: [], unchanged: [] };
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: options.replicationFactor ?? 1,
          configEntries: Object.entries(topicConfig(t, env)).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length === 0) return report;

    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grow = present.filter((t) => {
      const meta = metadata.topics.find((m) => m.name === t.name);
      return meta !== undefined && meta.partitions.length < t.partitions;
    });
    if (grow.length > 0) {
      await admin.createPartitions({
        topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })),
      });
    }

    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: present.map((t) => ({
        type: ConfigResourceTypes.TOPIC,
        name: t.name,
        configNames: ['retention.ms', 'cleanup.policy', 'segment.ms'],
      })),
    });
    const drifted = present.filter((t) => {
      const resource = described.resources.find((r) => r.resourceName === t.name);
      const wanted = topicConfig(t, env);
      return (
        grow.includes(t) ||
        resource?.configEntries.some(
          (e) => wanted[e.configName] !== undefined && wanted[e.configName] !== e.configValue,
        )
      );
    });
    if (drifted.length > 0) {
      await admin.alterConfigs({
        validateOnly: false,
        resources: drifted.map((t) => ({
          type: ConfigResourceTypes.TOPIC,
          name: t.name,
          configEntries: Object.entries(topicConfig(t, env)).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    report.updated = drifted.map((t) => t.name);
    report.unchanged = present.filter((t) => !drifted.includes(t)).map((t) => t.name);
    return report;
  } finally {
    await admin.disconnect();
  }
}
