import type { EntityManager } from 'typeorm';

export interface InboxEntry {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Records events as applied for a consumer group, in the caller's transaction, and returns the
 * ids that were new. A redelivered event is already there and comes back filtered out, so its
 * side effects are not applied twice (invariant 3).
 */
export async function claimInbox(
  tx: EntityManager,
  consumerGroup: string,
  entries: InboxEntry[],
): Promise<Set<string>> {
  if (entries.length === 0) return new Set();
  // Rows travel as one JSON document (parsed by PostgreSQL) rather than as escaped array literals.
  const rows: { event_id: string }[] = await tx.query(
    `insert into kafka_inbox (consumer_group, event_id, topic, partition, "offset")
     select $1, e.event_id, e.topic, e.partition, e.off
       from json_to_recordset($2::json) as e(event_id text, topic text, partition int, off bigint)
     on conflict (consumer_group, event_id) do nothing
     returning event_id`,
    [
      consumerGroup,
      JSON.stringify(
        entries.map((e) => ({ event_id: e.eventId, topic: e.topic, partition: e.partition, off: e.offset })),
      ),
    ],
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Deletes inbox rows older than the longest time a redelivery can arrive (topic retention). */
export async function pruneInbox(tx: EntityManager, olderThanMs: number): Promise<number> {
  const result: [unknown[], number] = await tx.query(
    `delete from kafka_inbox where processed_at < now() - make_interval(secs => $1::double precision / 1000)`,
    [olderThanMs],
  );
  return result[1];
}
