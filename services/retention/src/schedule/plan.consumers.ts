import { Injectable } from '@nestjs/common';
import { InquiryRecorded, type InquiryRecordedV1, PiiRedacted, type PiiRedactedV1 } from '@veil/contracts';
import { confineTransaction, lockOrganizations } from '@veil/platform/database';
import { type BatchHandler, type ConsumedEvent, EventConsumer } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { POLICY_LOCKS, PolicyService } from '../policy/policy.service';
import { dueAtSql } from '../policy/rules';

/** Policy changes and plans of the same organization take turns (PolicyService.put takes it exclusively). */
function lockPolicies(tx: EntityManager, organizationIds: string[]): Promise<void> {
  return lockOrganizations(tx, POLICY_LOCKS, organizationIds, 'shared');
}

/** Plans each recorded inquiry under its organization's policy (idempotent per inquiry). */
@Injectable()
@EventConsumer({ groupId: 'retention.plans', contracts: [InquiryRecorded], inbox: false })
export class InquiryRecordedConsumer implements BatchHandler<InquiryRecordedV1> {
  async handle(events: ConsumedEvent<InquiryRecordedV1>[], tx: EntityManager): Promise<void> {
    const organizations = events.map((e) => e.event.organizationId);
    await confineTransaction(tx, organizations);
    await lockPolicies(tx, organizations);
    // A placeholder left by an earlier pii.redacted (template '') takes the record's fields and
    // keeps its redacted_at; an inquiry planned before is left alone.
    await tx.query(
      `insert into planned_inquiries (organization_id, inquiry_id, template_id, status, created_at, due_at, redacted_at)
       select r.org, r.inq, r.template_id, r.status, r.created_at,
              ${dueAtSql(PolicyService.rulesSql('r.org'), 'r')}, r.red
         from json_to_recordset($1::json)
           as r(org text, inq text, template_id text, status text, created_at timestamptz, red timestamptz)
       on conflict (organization_id, inquiry_id) do update
         set template_id = excluded.template_id, status = excluded.status, created_at = excluded.created_at,
             due_at = excluded.due_at
         where planned_inquiries.template_id = ''`,
      [
        JSON.stringify(
          events.map(({ event }) => ({
            org: event.organizationId,
            inq: event.data.inquiryId,
            template_id: event.data.templateId,
            status: event.data.status,
            created_at: event.data.createdAt,
            red: event.data.redactedAt ?? null,
          })),
        ),
      ],
    );
  }
}

/** Redacted inquiries (by any means) are not planned any more; one not recorded yet gets a placeholder. */
@Injectable()
@EventConsumer({ groupId: 'retention.redactions', contracts: [PiiRedacted], inbox: false })
export class PiiRedactedConsumer implements BatchHandler<PiiRedactedV1> {
  async handle(events: ConsumedEvent<PiiRedactedV1>[], tx: EntityManager): Promise<void> {
    const organizations = events.map((e) => e.event.organizationId);
    await confineTransaction(tx, organizations);
    await lockPolicies(tx, organizations);
    await tx.query(
      `insert into planned_inquiries (organization_id, inquiry_id, template_id, status, created_at, redacted_at)
       select r.org, r.inq, '', '', r.at, r.at
         from json_to_recordset($1::json) as r(org text, inq text, at timestamptz)
       on conflict (organization_id, inquiry_id) do update
         set redacted_at = coalesce(planned_inquiries.redacted_at, excluded.redacted_at)`,
      [
        JSON.stringify(
          events.map(({ event }) => ({
            org: event.organizationId,
            inq: event.data.inquiryId,
            at: event.data.redactedAt,
          })),
        ),
      ],
    );
  }
}
