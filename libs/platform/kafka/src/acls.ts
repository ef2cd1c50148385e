import type { TopicSpec } from '@veil/contracts';
import {
  type AclEntry,
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  type Kafka,
  ResourcePatternTypes,
} from 'kafkajs';

/** The Kafka principal of a party named in the topic contracts (`operators` act as the administrator). */
export function principalOf(party: string): string | undefined {
  return party === 'operators' ? undefined : `User:veil-${party}`;
}

function allow(
  principal: string,
  resourceType: AclResourceTypes,
  resourceName: string,
  operation: AclOperationTypes,
  pattern = ResourcePatternTypes.LITERAL,
): AclEntry {
  return {
    principal,
    host: '*',
    resourceType,
    resourceName,
    resourcePatternType: pattern,
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  };
}

/**
 * Least privilege on the broker, made from the topic contracts: a producer may write (and
 * describe) its topics, a consumer may read them and use the consumer groups named after it
 * (`<party>.*`, the convention every consumer group follows), and nobody else may do either.
 * A dead-letter topic's producers are its topic's consumers.
 */
export function aclsFromContracts(topics: readonly TopicSpec[]): AclEntry[] {
  const acls = new Map<string, AclEntry>();
  const add = (entry: AclEntry | undefined) => {
    if (entry) acls.set(JSON.stringify(entry), entry);
  };
  for (const topic of topics) {
    for (const party of topic.producers) {
      const principal = principalOf(party);
      if (!principal) continue;
      add(allow(principal, AclResourceTypes.TOPIC, topic.name, AclOperationTypes.WRITE));
      add(allow(principal, AclResourceTypes.TOPIC, topic.name, AclOperationTypes.DESCRIBE));
    }
    for (const party of topic.consumers) {
      const principal = principalOf(party);
      if (!principal) continue;
      add(allow(principal, AclResourceTypes.TOPIC, topic.name, AclOperationTypes.READ));
      add(allow(principal, AclResourceTypes.TOPIC, topic.name, AclOperationTypes.DESCRIBE));
      add(
        allow(
          principal,
          AclResourceTypes.GROUP,
          `${party}.`,
          AclOperationTypes.READ,
          ResourcePatternTypes.PREFIXED,
        ),
      );
    }
  }
  return [...acls.values()];
}

export interface AclReport {
  created: number;
  deleted: number;
  unchanged: number;
}

const key = (a: AclEntry) =>
  [
    a.principal,
    a.host,
    a.resourceType,
    a.resourceName,
    a.resourcePatternType,
    a.operation,
    a.permissionType,
  ].join('|');

/**
 * Brings the broker's ACLs for Veil's principals (`User:veil-*`) to exactly `desired`: missing
 * ones are created, ones no contract grants any more are deleted.
 */
export async function syncAcls(kafka: Kafka, desired: readonly AclEntry[]): Promise<AclReport> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const described = await admin.describeAcls({
      resourceType: AclResourceTypes.ANY,
      resourcePatternType: ResourcePatternTypes.ANY,
      operation: AclOperationTypes.ANY,
      permissionType: AclPermissionTypes.ANY,
    });
    const existing = described.resources.flatMap((r) =>
      r.acls
        .filter((a) => a.principal.startsWith('User:veil-'))
        .map((a) => ({
          ...a,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          resourcePatternType: r.resourcePatternType,
        })),
    );
    const want = new Map(desired.map((a) => [key(a), a]));
    const have = new Map(existing.map((a) => [key(a), a]));
    const missing = [...want].filter(([k]) => !have.has(k)).map(([, a]) => a);
    const extra = [...have].filter(([k]) => !want.has(k)).map(([, a]) => a);
    if (missing.length > 0) await admin.createAcls({ acl: missing });
    if (extra.length > 0) await admin.deleteAcls({ filters: extra });
    return { created: missing.length, deleted: extra.length, unchanged: want.size - missing.length };
  } finally {
    await admin.disconnect();
  }
}
