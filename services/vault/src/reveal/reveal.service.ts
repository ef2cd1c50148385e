import { Injectable, Logger } from '@nestjs/common';
import { AuditEvent, type AuditEventV1, type PiiAttribute } from '@veil/contracts';
import { decryptField, IntegrityError, unwrapDataKey } from '@veil/platform/crypto';
import { queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { MetricsService } from '@veil/platform/observability';
import { ApiError } from '@veil/platform/service';
import { Histogram } from 'prom-client';
import { DataSource } from 'typeorm';

import { OrganizationKeyring } from '../keys/organization-keyring';
import { unpackFields } from '../vaulting/field-bundle';

export interface RevealRequest {
  organizationId: string;
  inquiryIds: string[];
  attributes: PiiAttribute[];
  purpose: string;
  actor: AuditEventV1['actor'];
  requestId?: string;
}

export interface RevealedInquiry {
  inquiryId: string;
  /** False when the vault holds nothing for it (unknown id, or another organization's). */
  found: boolean;
  /** True when its keys were destroyed: redacted for good. */
  redacted: boolean;
  attributes: Partial<Record<PiiAttribute, string | string[]>>;
}

const LIST_ATTRIBUTES = new Set<PiiAttribute>(['documentFiles', 'selfieFiles']);

interface Row {
  organization_id: string;
  inquiry_id: string;
  data_key_version: number;
  kek_version: number;
  wrapped_key: Buffer | null;
  bundle: Buffer | null;
  fields_key_version: number | null;
}

/** One request's outcome in a batch: its inquiries, or why nothing was revealed for it. */
export type RevealOutcome =
  | { ok: true; inquiries: RevealedInquiry[] }
  | { ok: false; error: { code: 'ciphertext_integrity'; message: string } };

const INTEGRITY_MESSAGE = 'stored data failed its integrity check; nothing was revealed';

/**
 * Purpose-bound, audited decryption. Each request's audit event is written to the outbox by the
 * very statement that reads the ciphertexts (invariant 6): if it cannot be recorded, nothing is
 * read. Concurrent requests (possibly of different organizations) can share that one statement,
 * one round trip for all, each with its own audit event. A ciphertext that fails authentication
 * is never returned; that request fails and the failure is audited as a second event.
 */
@Injectable()
export class RevealService {
  private readonly logger = new Logger('RevealService');
  private readonly batchSizes: Histogram;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
    private readonly outbox: OutboxWriter,
    metrics: MetricsService,
  ) {
    this.batchSizes = new Histogram({
      name: 'veil_reveal_batch_requests',
      help: 'Reveal requests answered by one statement (concurrent customer calls coalesce).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [metrics.registry],
    });
  }

  async reveal(request: RevealRequest): Promise<RevealedInquiry[]> {
    const [outcome] = await this.revealMany([request]);
    if (!outcome!.ok) throw new ApiError(500, outcome!.error.code, outcome!.error.message);
    return outcome!.inquiries;
  }

  async revealMany(requests: RevealRequest[]): Promise<RevealOutcome[]> {
    this.batchSizes.observe(requests.length);
    const rows = await this.readAudited(requests);
    const failed: RevealRequest[] = [];
    const outcomes: RevealOutcome[] = [];
    for (const request of requests) {
      try {
        outcomes.push({ ok: true, inquiries: await this.decrypt(request, rows) });
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        failed.push(request);
        outcomes.push({ ok: false, error: { code: 'ciphertext_integrity', message: INTEGRITY_MESSAGE } });
      }
    }
    if (failed.length > 0) {
      await this.dataSource.transaction((tx) =>
        this.outbox.enqueueMany(
          tx,
          AuditEvent,
          failed.map((request) => this.auditEvent(request, 'pii.integrity_failure', 'failed')),
          { ordered: false }, // concurrent reveals of one organization need not wait for each other
        ),
      );
      for (const request of failed) {
        this.logger.error({
          msg: 'ciphertext failed integrity check',
          organizationId: request.organizationId,
        });
      }
    }
    return outcomes;
  }

  /** Reads the ciphertexts of every request and writes their audit events in one statement. */
  private readAudited(requests: RevealRequest[]): Promise<Row[]> {
    const audit = this.outbox.prepare(
      AuditEvent,
      requests.map((request) => this.auditEvent(request, 'pii.reveal', 'allowed')),
      3,
    );
    const pairs = requests.flatMap((r) => r.inquiryIds.map((id) => [r.organizationId, id] as const));
    return queryRows<Row>(
      this.dataSource,
      `with audit as (${audit.sql}),
            wanted as (select distinct * from unnest($1::text[], $2::text[]) as w(organization_id, inquiry_id))
       select d.organization_id, d.inquiry_id, d.data_key_version, d.kek_version, d.wrapped_key, f.bundle,
              f.data_key_version as fields_key_version
         from wanted w
         join data_keys d on d.organization_id = w.organization_id and d.inquiry_id = w.inquiry_id
         left join encrypted_fields f on f.organization_id = d.organization_id and f.inquiry_id = d.inquiry_id`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), ...audit.params],
    );
  }

  private async decrypt(request: RevealRequest, rows: Row[]): Promise<RevealedInquiry[]> {
    const { organizationId } = request;
    const results = new Map<string, RevealedInquiry>(
      request.inquiryIds.map((id) => [id, { inquiryId: id, found: false, redacted: false, attributes: {} }]),
    );
    for (const row of rows) {
      if (row.organization_id !== organizationId) continue;
      const result = results.get(row.inquiry_id);
      if (!result) continue;
      result.found = true;
      if (!row.wrapped_key) {
        result.redacted = true;
        continue;
      }
      if (!row.bundle) continue;
      let fields: Map<string, Buffer>;
      try {
        fields = unpackFields(row.bundle);
      } catch {
        throw new IntegrityError('malformed ciphertext bundle');
      }
      const kek = await this.keyring.keyByVersion(organizationId, 'kek', row.kek_version);
      let dataKey: Buffer;
      try {
        dataKey = unwrapDataKey(kek.key, row.wrapped_key, {
          organizationId,
          inquiryId: row.inquiry_id,
          dataKeyVersion: row.data_key_version,
          kekVersion: row.kek_version,
        });
      } finally {
        kek.release();
      }
      try {
        for (const attribute of request.attributes) {
          const ciphertext = fields.get(attribute);
          if (!ciphertext) continue;
          const plaintext = decryptField(dataKey, ciphertext, {
            organizationId,
            inquiryId: row.inquiry_id,
            attribute,
            dataKeyVersion: row.fields_key_version ?? row.data_key_version,
          });
          result.attributes[attribute] = LIST_ATTRIBUTES.has(attribute)
            ? (JSON.parse(plaintext) as string[])
            : plaintext;
        }
      } finally {
        dataKey.fill(0);
      }
    }
    return [...results.values()];
  }

  private auditEvent(request: RevealRequest, action: string, outcome: AuditEventV1['outcome']) {
    return {
      organizationId: request.organizationId,
      ...(request.requestId ? { correlationId: request.requestId } : {}),
      data: {
        action,
        actor: request.actor,
        outcome,
        targets: { inquiryIds: request.inquiryIds, attributes: request.attributes },
        purpose: request.purpose,
        ...(request.requestId ? { requestId: request.requestId } : {}),
      },
    };
  }
}
