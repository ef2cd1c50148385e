import { Injectable } from '@nestjs/common';
import { InquiryCreated, type InquiryCreatedV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { InquiryIntakeService } from './inquiry-intake.service';

/** Consumes upstream inquiries; validation, size limits and dead-lettering happen in the runtime. */
@Injectable()
// Every partition of the intake topic in flight at once: while one chunk waits on the vault or
// PostgreSQL, another is being decoded or encrypted.
@EventConsumer({
  groupId: 'ingest.inquiry-intake',
  contracts: [InquiryCreated],
  partitionsConsumedConcurrently: 6,
})
export class InquiryCreatedConsumer implements BatchHandler<InquiryCreatedV1> {
  constructor(private readonly intake: InquiryIntakeService) {}

  handle(events: ConsumedEvent<InquiryCreatedV1>[], tx: EntityManager): Promise<void> {
    return this.intake.vaultAndRecord(
      events.map((e) => e.event),
      tx,
    );
  }
}
