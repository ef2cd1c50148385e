import { Injectable } from '@nestjs/common';
import { PiiRedacted, PiiRedactionApplied, type PiiRedactedV1 } from '@veil/contracts';
import { type BatchHandler, type ConsumedEvent, EventConsumer, OutboxWriter } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { TenantDb } from '../access/tenant-db';
import { lockReadModel } from '../inquiries/inquiries.repository';

/**
 * Applies redactions to the read model: `redacted_at` set, the rest of the record kept (status
 * never changes). Kept in `inquiry_redactions` too, so an inquiry whose `inquiry.recorded` comes
 * later is recorded as redacted. Then says so to the vault (`pii.redaction.applied`).
 */
@Injectable()
@EventConsumer({ groupId: 'api.redactions', contracts: [PiiRedacted] })
export class PiiRedactedConsumer implements BatchHandler<PiiRedactedV1> {
  constructor(
    private readonly tenants: TenantDb,
    private readonly outbox: OutboxWriter,
  ) {}

  handle(events: ConsumedEvent<PiiRedactedV1>[], tx: EntityManager): Promise<void> {
    const organizations = events.map((e) => e.event.organizationId);
    return this.tenants.forOrganizations(
      organizations,
      async (m) => {
        await lockReadModel(m, organizations, 'exclusive');
        const rows = JSON.stringify(
          events.map((e) => ({
            org: e.event.organizationId,
            inq: e.event.data.inquiryId,
            id: e.event.data.redactionId,
            at: e.event.data.redactedAt,
          })),
        );
        await m.query(
          `insert into inquiry_redactions (organization_id, inquiry_id, redaction_id, redacted_at)
           select org, inq, id, at from json_to_recordset($1::json) as r(org text, inq text, id text, at timestamptz)
           on conflict do nothing`,
          [rows],
        );
        await m.query(
          `update inquiries i set redacted_at = r.at
             from json_to_recordset($1::json) as r(org text, inq text, id text, at timestamptz)
            where i.organization_id = r.org and i.inquiry_id = r.inq and i.redacted_at is null`,
          [rows],
        );
        const appliedAt = new Date().toISOString();
        await this.outbox.enqueueMany(
          m,
          PiiRedactionApplied,
          events.map((e) => ({
            organizationId: e.event.organizationId,
            data: {
              redactionId: e.event.data.redactionId,
              inquiryId: e.event.data.inquiryId,
              service: 'api' as const,
              appliedAt,
            },
          })),
        );
      },
      tx,
    );
  }
}
