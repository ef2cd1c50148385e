import { Injectable } from '@nestjs/common';
import type { PiiAttribute, VaultedInquiry } from '@veil/contracts';
import {
  blindIndex,
  type BlindIndexKind,
  encryptField,
  newDataKey,
  wrapDataKey,
} from '@veil/platform/crypto';
import { inTenantTransaction, queryRows } from '@veil/platform/database';
import { DataSource } from 'typeorm';

import { type OrganizationKey, OrganizationKeyring } from '../keys/organization-keyring';
import { lockOrganizations, RedactionService } from '../redaction/redaction.service';
import { packFields } from './field-bundle';

export interface InquiryToVault {
  organizationId: string;
  inquiryId: string;
  /** Attribute name -> plaintext; lists (file references) are stored JSON-encoded. */
  values: Partial<Record<PiiAttribute, string | string[]>>;
  /** When the upstream event says it happened (see VaultStoreRequest). */
  occurredAt?: string;
}

const INDEXED: Partial<Record<PiiAttribute, BlindIndexKind>> = {
  referenceId: 'referenceId',
  emailAddress: 'emailAddress',
  identificationNumber: 'identificationNumber',
};

export const DATA_KEY_VERSION = 1;

interface EncryptedInquiry {
  organizationId: string;
  inquiryId: string;
  kekVersion: number;
  wrappedKey: Buffer;
  attributes: PiiAttribute[];
  bundle: Buffer;
  indexes: { kind: BlindIndexKind; digest: string; keyVersion: number }[];
}

/**
 * Stores inquiries' PII: one random data key per inquiry wrapped by the organization's KEK, one
 * AES-256-GCM ciphertext per attribute (packed into one row per inquiry), blind indexes for the
 * searchable ones. Idempotent per (organization, inquiry): a repeated store writes nothing and
 * answers `created: false`; a redacted inquiry (in the ledger, or of a subject under erasure) is
 * never stored again, and answers `redacted: true`.
 */
@Injectable()
export class VaultStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
    private readonly redactions: RedactionService,
  ) {}

  async store(batch: InquiryToVault[]): Promise<VaultedInquiry[]> {
    const unique = new Map<string, InquiryToVault>();
    for (const item of batch)
      if (!unique.has(key(item.organizationId, item.inquiryId)))
        unique.set(key(item.organizationId, item.inquiryId), item);
    const items = [...unique.values()];

    const { present, ledgered } = await this.known(items);
    const absent = items.filter((i) => !present.has(key(i.organizationId, i.inquiryId)));
    // Redacted ones are not even encrypted; the transaction below checks the ledger again.
    const encrypted = await this.encrypt(
      absent.filter((i) => !ledgered.has(key(i.organizationId, i.inquiryId))),
    );
    const created = new Set<string>();
    let redacted = new Set<string>();

    if (absent.length > 0) {
      const organizations = [...new Set(absent.map((e) => e.organizationId))].sort();
      await inTenantTransaction(this.dataSource, organizations, async (tx) => {
        // A redaction takes this lock exclusively: it cannot commit between our ledger check and our insert.
        await lockOrganizations(tx, organizations, 'shared');
        redacted = await this.redactions.screen(tx, absent, (orgs) =>
          this.subjectRefs(absent.filter((i) => orgs.includes(i.organizationId))),
        );
        const toInsert = encrypted.filter((e) => !redacted.has(key(e.organizationId, e.inquiryId)));
        if (toInsert.length === 0) return;
        const won = await queryRows<{ organization_id: string; inquiry_id: string }>(
          tx,
          `insert into data_keys (organization_id, inquiry_id, data_key_version, kek_version, wrapped_key)
           select org, inq, $2, kek, decode(wrapped, 'base64')
             from json_to_recordset($1::json) as r(org text, inq text, kek int, wrapped text)
           on conflict do nothing returning organization_id, inquiry_id`,
          [
            JSON.stringify(
              toInsert.map((e) => ({
                org: e.organizationId,
                inq: e.inquiryId,
                kek: e.kekVersion,
                wrapped: e.wrappedKey.toString('base64'),
              })),
            ),
            DATA_KEY_VERSION,
          ],
        );
        for (const w of won) created.add(key(w.organization_id, w.inquiry_id));
        // A concurrent store of the same inquiry won the race: its ciphertexts stand, ours are dropped.
        const rows = toInsert.filter((e) => created.has(key(e.organizationId, e.inquiryId)));
        if (rows.length === 0) return;
        await tx.query(
          `insert into encrypted_fields (organization_id, inquiry_id, attributes, bundle, data_key_version)
           select org, inq, attrs, decode(bundle, 'base64'), $2
             from json_to_recordset($1::json) as r(org text, inq text, attrs text[], bundle text)`,
          [
            JSON.stringify(
              rows.map((e) => ({
                org: e.organizationId,
                inq: e.inquiryId,
                attrs: e.attributes,
                bundle: e.bundle.toString('base64'),
              })),
            ),
            DATA_KEY_VERSION,
          ],
        );
        const indexes = rows.flatMap((e) =>
          e.indexes.map((i) => ({ ...i, organizationId: e.organizationId, inquiryId: e.inquiryId })),
        );
        if (indexes.length > 0) {
          await tx.query(
            `insert into blind_indexes (organization_id, kind, digest, key_version, inquiry_id)
             select org, kind, digest, version, inq
               from json_to_recordset($1::json) as r(org text, kind text, digest text, version int, inq text)
             on conflict do nothing`,
            [
              JSON.stringify(
                indexes.map((i) => ({
                  org: i.organizationId,
                  kind: i.kind,
                  digest: i.digest,
                  version: i.keyVersion,
                  inq: i.inquiryId,
                })),
              ),
            ],
          );
        }
      });
    }

    return items.map((i) => ({
      organizationId: i.organizationId,
      inquiryId: i.inquiryId,
      created: created.has(key(i.organizationId, i.inquiryId)),
      redacted: redacted.has(key(i.organizationId, i.inquiryId)),
    }));
  }

  private async encrypt(items: InquiryToVault[]): Promise<EncryptedInquiry[]> {
    const byOrg = new Map<string, InquiryToVault[]>();
    for (const item of items)
      byOrg.set(item.organizationId, [...(byOrg.get(item.organizationId) ?? []), item]);
    const out: EncryptedInquiry[] = [];
    for (const [organizationId, inquiries] of byOrg) {
      const kek = await this.keyring.encryptionKey(organizationId, inquiries.length);
      try {
        const indexKey = await this.keyring.indexKey(organizationId);
        try {
          for (const inquiry of inquiries) out.push(this.encryptOne(organizationId, inquiry, kek, indexKey));
        } finally {
          indexKey.release();
        }
      } finally {
        kek.release();
      }
    }
    return out;
  }

  private encryptOne(
    organizationId: string,
    inquiry: InquiryToVault,
    kek: OrganizationKey,
    indexKey: OrganizationKey,
  ): EncryptedInquiry {
    const dataKey = newDataKey();
    try {
      const context = { organizationId, inquiryId: inquiry.inquiryId, dataKeyVersion: DATA_KEY_VERSION };
      const fields = new Map<string, Buffer>();
      const indexes: EncryptedInquiry['indexes'] = [];
      for (const [attribute, raw] of Object.entries(inquiry.values) as [PiiAttribute, string | string[]][]) {
        const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
        fields.set(attribute, encryptField(dataKey, value, { ...context, attribute }));
        const kind = INDEXED[attribute];
        if (kind)
          indexes.push({ kind, digest: blindIndex(indexKey.key, kind, value), keyVersion: indexKey.version });
      }
      return {
        organizationId,
        inquiryId: inquiry.inquiryId,
        kekVersion: kek.version,
        wrappedKey: wrapDataKey(kek.key, dataKey, { ...context, kekVersion: kek.version }),
        attributes: [...fields.keys()] as PiiAttribute[],
        bundle: packFields(fields),
        indexes,
      };
    } finally {
      dataKey.fill(0);
    }
  }

  /** Which inquiries the vault holds, and which are redacted (in the ledger). */
  private async known(
    items: { organizationId: string; inquiryId: string }[],
  ): Promise<{ present: Set<string>; ledgered: Set<string> }> {
    if (items.length === 0) return { present: new Set(), ledgered: new Set() };
    const rows = await inTenantTransaction(
      this.dataSource,
      items.map((i) => i.organizationId),
      (tx) =>
        queryRows<{ organization_id: string; inquiry_id: string; redacted: boolean }>(
          tx,
          `select d.organization_id, d.inquiry_id, false as redacted
             from data_keys d
             join unnest($1::text[], $2::text[]) as want(org, inq) on d.organization_id = want.org and d.inquiry_id = want.inq
           union all
           select l.organization_id, l.inquiry_id, true
             from redacted_inquiries l
             join unnest($1::text[], $2::text[]) as want(org, inq) on l.organization_id = want.org and l.inquiry_id = want.inq`,
          [items.map((i) => i.organizationId), items.map((i) => i.inquiryId)],
        ),
    );
    return {
      present: new Set(rows.filter((r) => !r.redacted).map((r) => key(r.organization_id, r.inquiry_id))),
      ledgered: new Set(rows.filter((r) => r.redacted).map((r) => key(r.organization_id, r.inquiry_id))),
    };
  }

  /** Reference-id blind indexes of these inquiries (those that have one), for subject redactions. */
  private async subjectRefs(items: InquiryToVault[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [organizationId, list] of groupByOrganization(items)) {
      const indexKey = await this.keyring.indexKey(organizationId);
      try {
        for (const item of list) {
          const value = item.values.referenceId;
          if (typeof value === 'string')
            out.set(key(organizationId, item.inquiryId), blindIndex(indexKey.key, 'referenceId', value));
        }
      } finally {
        indexKey.release();
      }
    }
    return out;
  }
}

function groupByOrganization(items: InquiryToVault[]): Map<string, InquiryToVault[]> {
  const out = new Map<string, InquiryToVault[]>();
  for (const item of items) out.set(item.organizationId, [...(out.get(item.organizationId) ?? []), item]);
  return out;
}

function key(organizationId: string, inquiryId: string): string {
  return `${organizationId}\u0000${inquiryId}`;
}
