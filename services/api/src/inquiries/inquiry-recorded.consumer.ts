import { Injectable } from '@nestjs/common';
import { InquiryRecorded, type InquiryRecordedV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { TenantDb } from '../access/tenant-db';
import { InquiriesRepository } from './inquiries.repository';

/** Builds the API's read model of inquiries (no PII) from `inquiry.recorded`. */
@Injectable()
@EventConsumer({ groupId: 'api.inquiry-read-model', contracts: [InquiryRecorded] })
export class InquiryRecordedConsumer implements BatchHandler<InquiryRecordedV1> {
  constructor(
    private readonly tenants: TenantDb,
    private readonly inquiries: InquiriesRepository,
  ) {}

  handle(events: ConsumedEvent<InquiryRecordedV1>[], tx: EntityManager): Promise<void> {
    return this.tenants.forOrganizations(
      events.map((e) => e.event.organizationId),
      (m) =>
        this.inquiries.insertFromRecorded(
          m,
          events.map((e) => ({ organizationId: e.event.organizationId, data: e.event.data })),
        ),
      tx,
    );
  }
}
