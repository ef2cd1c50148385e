import { Injectable, Logger } from '@nestjs/common';
import { AuditEvent, type AuditEventV1, type PiiAttribute } from '@veil/contracts';
import { decryptField, IntegrityError, unwrapDataKey } from '@veil/platform/crypto';
import { queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { ApiError } from '@veil/platform/service';
import { DataSource, type EntityManager } from 'typeorm';

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
  inquiry_id: string;
  data_key_version: number;
  kek_version: number;
  wrapped_key: Buffer | null;
  bundle: Buffer | null;
  fields_key_version: number | null;
}

/**
 * Purpose-bound, audited decryption. The audit event is written to the outbox in the same
 * transaction that reads the ciphertexts (invariant 6): if it cannot be recorded, nothing is
 * returned. A ciphertext that fails authentication is never returned; the failure is audited.
 */
@Injectable()
export class RevealService {
  private readonly logger = new Logger('RevealService');

  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
    private readonly outbox: OutboxWriter,
  ) {}

  async reveal(request: RevealRequest): Promise<RevealedInquiry[]> {
    try {
      return await this.dataSource.transaction(async (tx) => {
        const rows = await this.read(tx, request);
        await this.audit(tx, request, 'pii.reveal', 'allowed');
        return this.decrypt(request, rows);
      });
    } catch (error) {
      if (error instanceof IntegrityError) {
        await this.dataSource.transaction((tx) => this.audit(tx, request, 'pii.integrity_failure', 'failed'));
        this.logger.error({
          msg: 'ciphertext failed integrity check',
          organizationId: request.organizationId,
        });
        throw new ApiError(
          500,
          'ciphertext_integrity',
          'stored data failed its integrity check; nothing was revealed',
        );
      }
      throw error;
    }
  }

  private read(tx: EntityManager, request: RevealRequest): Promise<Row[]> {
    return queryRows<Row>(
      tx,
      `select d.inquiry_id, d.data_key_version, d.kek_version, d.wrapped_key, f.bundle, f.data_key_version as fields_key_version
         from data_keys d
         left join encrypted_fields f on f.organization_id = d.organization_id and f.inquiry_id = d.inquiry_id
        where d.organization_id = $1 and d.inquiry_id = any($2::text[])`,
      [request.organizationId, request.inquiryIds],
    );
  }

  private async decrypt(request: RevealRequest, rows: Row[]): Promise<RevealedInquiry[]> {
    const { organizationId } = request;
    const results = new Map<string, RevealedInquiry>(
      request.inquiryIds.map((id) => [id, { inquiryId: id, found: false, redacted: false, attributes: {} }]),
    );
    for (const row of rows) {
      const result = results.get(row.inquiry_id)!;
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
      const dataKey = unwrapDataKey(kek, row.wrapped_key, {
        organizationId,
        inquiryId: row.inquiry_id,
        dataKeyVersion: row.data_key_version,
        kekVersion: row.kek_version,
      });
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

  private async audit(
    tx: EntityManager,
    request: RevealRequest,
    action: string,
    outcome: AuditEventV1['outcome'],
  ): Promise<void> {
    // Unordered: concurrent reveals of one organization need not wait for each other's commit.
    await this.outbox.enqueue(
      tx,
      AuditEvent,
      {
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
      },
      { ordered: false },
    );
  }
}
