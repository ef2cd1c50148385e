import { Injectable } from '@nestjs/common';
import { PiiRedactionRequested, type PiiRedactionRequestedV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { RedactionService } from './redaction.service';

/** Applies redaction requests from the api (and later retention and DSAR); idempotent by redaction id. */
@Injectable()
@EventConsumer({ groupId: 'vault.redactions', contracts: [PiiRedactionRequested] })
export class RedactionRequestedConsumer implements BatchHandler<PiiRedactionRequestedV1> {
  constructor(private readonly redactions: RedactionService) {}

  handle(events: ConsumedEvent<PiiRedactionRequestedV1>[], tx: EntityManager): Promise<void> {
    return this.redactions.apply(
      tx,
      events.map((e) => ({ organizationId: e.event.organizationId, data: e.event.data })),
    );
  }
}
