import { Injectable } from '@nestjs/common';
import { PiiRedactionApplied, type PiiRedactionAppliedV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { RedactionService } from './redaction.service';

/** Other services' acknowledgements: a redaction completes once every one of them applied it. */
@Injectable()
@EventConsumer({ groupId: 'vault.redaction-acks', contracts: [PiiRedactionApplied], inbox: false })
export class RedactionAppliedConsumer implements BatchHandler<PiiRedactionAppliedV1> {
  constructor(private readonly redactions: RedactionService) {}

  handle(events: ConsumedEvent<PiiRedactionAppliedV1>[], tx: EntityManager): Promise<void> {
    return this.redactions.acknowledge(
      tx,
      events.map((e) => ({ organizationId: e.event.organizationId, data: e.event.data })),
    );
  }
}
