import { Injectable } from '@nestjs/common';
import { AuditEvent, type AuditEventV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { MerkleLogRepository } from './merkle-log.repository';

/**
 * Appends every audit event, exactly once, to its chain of the Merkle log. The log itself
 * de-duplicates (event ids are unique in it, checked in the append's transaction), so no inbox row.
 */
@Injectable()
@EventConsumer({
  groupId: 'audit-log.append',
  contracts: [AuditEvent],
  inbox: false,
  partitionsConsumedConcurrently: 6,
})
export class AuditEventsConsumer implements BatchHandler<AuditEventV1> {
  constructor(private readonly log: MerkleLogRepository) {}

  async handle(events: ConsumedEvent<AuditEventV1>[], tx: EntityManager): Promise<void> {
    await this.log.append(
      tx,
      events.map(({ event }) => ({
        eventId: event.eventId,
        organizationId: event.organizationId,
        occurredAt: event.occurredAt,
        producer: event.producer,
        event: event.data,
      })),
    );
  }
}
