import { Injectable } from '@nestjs/common';
import { PiiRedacted, PiiRedactionApplied, type PiiRedactedV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer, OutboxWriter } from '@veil/platform/kafka';
import { lockOrganizations } from '@veil/platform/database';
import type { EntityManager } from 'typeorm';

import { RECORD_LOCKS } from '../intake/inquiry-intake.service';

/**
 * Applies redactions to the PII-free inquiry record: `redacted_at` is set, everything else stays
 * (status never changes). Ingest holds no PII to delete; it says it applied the redaction, which
 * the vault waits for before completing it. An inquiry ingest has not recorded yet is recorded as
 * redacted when it arrives (the vault answers so).
 */
@Injectable()
@EventConsumer({ groupId: 'ingest.redactions', contracts: [PiiRedacted] })
export class PiiRedactedConsumer implements BatchHandler<PiiRedactedV1> {
  constructor(private readonly outbox: OutboxWriter) {}

  async handle(events: ConsumedEvent<PiiRedactedV1>[], tx: EntityManager): Promise<void> {
    await lockOrganizations(
      tx,
      RECORD_LOCKS,
      events.map((e) => e.event.organizationId),
      'exclusive',
    );
    await tx.query(
      `update inquiries i set redacted_at = r.at
         from json_to_recordset($1::json) as r(org text, inq text, at timestamptz)
        where i.organization_id = r.org and i.inquiry_id = r.inq and i.redacted_at is null`,
      [
        JSON.stringify(
          events.map((e) => ({
            org: e.event.organizationId,
            inq: e.event.data.inquiryId,
            at: e.event.data.redactedAt,
          })),
        ),
      ],
    );
    const appliedAt = new Date().toISOString();
    await this.outbox.enqueueMany(
      tx,
      PiiRedactionApplied,
      events.map((e) => ({
        organizationId: e.event.organizationId,
        data: {
          redactionId: e.event.data.redactionId,
          inquiryId: e.event.data.inquiryId,
          service: 'ingest' as const,
          appliedAt,
        },
      })),
    );
  }
}
