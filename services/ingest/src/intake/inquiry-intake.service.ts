import { Injectable, Logger } from '@nestjs/common';
import {
  InquiryRecorded,
  type EventEnvelope,
  type InquiryCreatedV1,
  type PiiAttribute,
} from '@veil/contracts';
import { lockOrganizations, queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import type { EntityManager } from 'typeorm';

import { VaultClient, type VaultStoreItem } from '../vault-client/vault-client';

/** Lock space of ingest's records per organization: intake takes it shared, redactions exclusively. */
export const RECORD_LOCKS = 4001;

interface RecordRow {
  organization_id: string;
  inquiry_id: string;
}

/**
 * Records inquiries: the PII goes to the vault, the PII-free record (ids, status, which attributes
 * exist) to the `inquiries` table, and `inquiry.recorded` to the outbox, all in the consumer's
 * transaction. De-duplicates by inquiry id as well as by event id: a replayed or re-sent inquiry
 * produces no second record and no second vault write.
 */
@Injectable()
export class InquiryIntakeService {
  private readonly logger = new Logger('InquiryIntake');

  constructor(
    private readonly vault: VaultClient,
    private readonly outbox: OutboxWriter,
  ) {}

  async vaultAndRecord(events: EventEnvelope<InquiryCreatedV1>[], tx: EntityManager): Promise<void> {
    const firstPerInquiry = new Map<string, EventEnvelope<InquiryCreatedV1>>();
    for (const e of events) {
      const k = key(e.organizationId, e.data.inquiryId);
      if (!firstPerInquiry.has(k)) firstPerInquiry.set(k, e);
    }
    const candidates = [...firstPerInquiry.values()];
    // Until this commits, a redaction of these organizations waits (PiiRedactedConsumer), so it
    // cannot miss a record that the vault has but this transaction has not committed yet.
    await lockOrganizations(
      tx,
      RECORD_LOCKS,
      candidates.map((e) => e.organizationId),
      'shared',
    );
    const known = await queryRows<RecordRow>(
      tx,
      `select i.organization_id, i.inquiry_id from inquiries i
         join unnest($1::text[], $2::text[]) as want(org, inq) on i.organization_id = want.org and i.inquiry_id = want.inq`,
      [candidates.map((e) => e.organizationId), candidates.map((e) => e.data.inquiryId)],
    );
    const recorded = new Set(known.map((r) => key(r.organization_id, r.inquiry_id)));
    const fresh = candidates.filter((e) => !recorded.has(key(e.organizationId, e.data.inquiryId)));
    const duplicates = events.length - fresh.length;
    if (fresh.length === 0) return;

    const stored = await this.vault.store(fresh.map(toVaultItem));
    // Redacted (a replay of a redacted inquiry, or a new one of a subject under erasure): the
    // vault stored nothing, and the record says so from the start.
    const redacted = new Set(stored.filter((r) => r.redacted).map((r) => key(r.organizationId, r.inquiryId)));
    const now = new Date().toISOString();

    const inserted = await queryRows<RecordRow>(
      tx,
      `insert into inquiries (organization_id, inquiry_id, template_id, status, attributes_provided, source_event_id,
                              occurred_at, redacted_at)
       select org, inq, tmpl, st, attrs, evt, at, red
         from json_to_recordset($1::json)
           as r(org text, inq text, tmpl text, st text, attrs text[], evt text, at timestamptz, red timestamptz)
       on conflict do nothing
       returning organization_id, inquiry_id`,
      [
        JSON.stringify(
          fresh.map((e) => ({
            org: e.organizationId,
            inq: e.data.inquiryId,
            tmpl: e.data.templateId,
            st: e.data.status,
            attrs: providedAttributes(e.data),
            evt: e.eventId,
            at: e.occurredAt,
            red: redacted.has(key(e.organizationId, e.data.inquiryId)) ? now : null,
          })),
        ),
      ],
    );
    const insertedKeys = new Set(inserted.map((r) => key(r.organization_id, r.inquiry_id)));
    await this.outbox.enqueueMany(
      tx,
      InquiryRecorded,
      fresh
        .filter((e) => insertedKeys.has(key(e.organizationId, e.data.inquiryId)))
        .map((e) => ({
          organizationId: e.organizationId,
          ...(e.correlationId ? { correlationId: e.correlationId } : {}),
          data: {
            inquiryId: e.data.inquiryId,
            templateId: e.data.templateId,
            status: e.data.status,
            createdAt: now,
            attributesProvided: providedAttributes(e.data),
            ...(redacted.has(key(e.organizationId, e.data.inquiryId)) ? { redactedAt: now } : {}),
          },
        })),
    );
    this.logger.debug?.({
      msg: 'inquiries recorded',
      recorded: insertedKeys.size,
      duplicates,
      redacted: redacted.size,
    });
  }
}

export function providedAttributes(data: InquiryCreatedV1): PiiAttribute[] {
  const names = Object.keys(data.attributes) as PiiAttribute[];
  return data.referenceId !== undefined ? ['referenceId', ...names] : names;
}

function toVaultItem(e: EventEnvelope<InquiryCreatedV1>): VaultStoreItem {
  return {
    organizationId: e.organizationId,
    inquiryId: e.data.inquiryId,
    occurredAt: e.occurredAt,
    values: {
      ...(e.data.referenceId !== undefined ? { referenceId: e.data.referenceId } : {}),
      ...e.data.attributes,
    },
  };
}

function key(organizationId: string, inquiryId: string): string {
  return `${organizationId}\u0000${inquiryId}`;
}
