import { randomBytes } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import type { PiiAttribute } from '@veil/contracts';
import {
  blindIndex,
  type BlindIndexKind,
  encryptField,
  newDataKey,
  wrapDataKey,
} from '@veil/platform/crypto';
import { queryRows } from '@veil/platform/database';
import { DataSource } from 'typeorm';

import { OrganizationKeyring } from '../keys/organization-keyring';

export interface InquiryToVault {
  organizationId: string;
  inquiryId: string;
  /** Attribute name -> plaintext; lists (file references) are stored JSON-encoded. */
  values: Partial<Record<PiiAttribute, string | string[]>>;
}

export interface VaultedInquiry {
  organizationId: string;
  inquiryId: string;
  tokens: Partial<Record<PiiAttribute, string>>;
  /** False when the inquiry was already in the vault: nothing was written this time. */
  created: boolean;
}

const INDEXED: Partial<Record<PiiAttribute, BlindIndexKind>> = {
  referenceId: 'referenceId',
  emailAddress: 'emailAddress',
  identificationNumber: 'identificationNumber',
};

const DATA_KEY_VERSION = 1;

export function newVaultToken(): string {
  return `vt_${randomBytes(16).toString('base64url')}`;
}

/**
 * Stores inquiries' PII: one random data key per inquiry wrapped by the organization's KEK, one
 * AES-256-GCM ciphertext per attribute, blind indexes for the searchable ones. Idempotent per
 * (organization, inquiry): a repeated store returns the tokens already issued and writes nothing.
 */
@Injectable()
export class VaultStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
  ) {}

  async store(batch: InquiryToVault[]): Promise<VaultedInquiry[]> {
    const unique = new Map<string, InquiryToVault>();
    for (const item of batch) unique.set(key(item.organizationId, item.inquiryId), item);
    const items = [...unique.values()];

    const existing = await this.existingTokens(items);
    const fresh = items.filter((i) => !existing.has(key(i.organizationId, i.inquiryId)));
    const created = new Set<string>();
    const encrypted = fresh.length > 0 ? await this.encrypt(fresh) : undefined;

    if (encrypted) {
      const rows = encrypted;
      await this.dataSource.transaction(async (tx) => {
        const won = await queryRows<{ organization_id: string; inquiry_id: string }>(
          tx,
          `insert into data_keys (organization_id, inquiry_id, data_key_version, kek_version, wrapped_key)
           select * from unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bytea[])
           on conflict do nothing returning organization_id, inquiry_id`,
          [
            rows.dataKeys.map((d) => d.organizationId),
            rows.dataKeys.map((d) => d.inquiryId),
            rows.dataKeys.map(() => DATA_KEY_VERSION),
            rows.dataKeys.map((d) => d.kekVersion),
            rows.dataKeys.map((d) => d.wrapped),
          ],
        );
        for (const w of won) created.add(key(w.organization_id, w.inquiry_id));
        // A concurrent store of the same inquiry won the race: its ciphertexts stand, ours are dropped.
        const attrs = rows.attributes.filter((a) => created.has(key(a.organizationId, a.inquiryId)));
        const indexes = rows.indexes.filter((i) => created.has(key(i.organizationId, i.inquiryId)));
        if (attrs.length > 0) {
          await tx.query(
            `insert into encrypted_attributes (organization_id, inquiry_id, attribute, token, ciphertext, data_key_version)
             select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[], $6::int[])`,
            [
              attrs.map((a) => a.organizationId),
              attrs.map((a) => a.inquiryId),
              attrs.map((a) => a.attribute),
              attrs.map((a) => a.token),
              attrs.map((a) => a.ciphertext),
              attrs.map(() => DATA_KEY_VERSION),
            ],
          );
        }
        if (indexes.length > 0) {
          await tx.query(
            `insert into blind_indexes (organization_id, kind, digest, key_version, inquiry_id)
             select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) on conflict do nothing`,
            [
              indexes.map((i) => i.organizationId),
              indexes.map((i) => i.kind),
              indexes.map((i) => i.digest),
              indexes.map((i) => i.keyVersion),
              indexes.map((i) => i.inquiryId),
            ],
          );
        }
      });
    }

    const issued = new Map<string, VaultedInquiry['tokens']>();
    for (const a of encrypted?.attributes ?? []) {
      const k = key(a.organizationId, a.inquiryId);
      if (!created.has(k)) continue;
      issued.set(k, { ...issued.get(k), [a.attribute]: a.token });
    }
    const lostRace = fresh.filter((i) => !created.has(key(i.organizationId, i.inquiryId)));
    const theirs = await this.existingTokens(lostRace);
    return items.map((i) => {
      const k = key(i.organizationId, i.inquiryId);
      return {
        organizationId: i.organizationId,
        inquiryId: i.inquiryId,
        tokens: issued.get(k) ?? existing.get(k) ?? theirs.get(k) ?? {},
        created: created.has(k),
      };
    });
  }

  private async encrypt(items: InquiryToVault[]) {
    const dataKeys: { organizationId: string; inquiryId: string; kekVersion: number; wrapped: Buffer }[] = [];
    const attributes: {
      organizationId: string;
      inquiryId: string;
      attribute: string;
      token: string;
      ciphertext: Buffer;
    }[] = [];
    const indexes: {
      organizationId: string;
      inquiryId: string;
      kind: string;
      digest: string;
      keyVersion: number;
    }[] = [];

    const byOrg = new Map<string, InquiryToVault[]>();
    for (const item of items)
      byOrg.set(item.organizationId, [...(byOrg.get(item.organizationId) ?? []), item]);

    for (const [organizationId, inquiries] of byOrg) {
      const kek = await this.keyring.encryptionKey(organizationId, inquiries.length);
      const indexKey = await this.keyring.indexKey(organizationId);
      for (const inquiry of inquiries) {
        const dataKey = newDataKey();
        try {
          const context = { organizationId, inquiryId: inquiry.inquiryId, dataKeyVersion: DATA_KEY_VERSION };
          dataKeys.push({
            organizationId,
            inquiryId: inquiry.inquiryId,
            kekVersion: kek.version,
            wrapped: wrapDataKey(kek.key, dataKey, { ...context, kekVersion: kek.version }),
          });
          for (const [attribute, raw] of Object.entries(inquiry.values) as [
            PiiAttribute,
            string | string[],
          ][]) {
            const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
            attributes.push({
              organizationId,
              inquiryId: inquiry.inquiryId,
              attribute,
              token: newVaultToken(),
              ciphertext: encryptField(dataKey, value, { ...context, attribute }),
            });
            const kind = INDEXED[attribute];
            if (kind) {
              indexes.push({
                organizationId,
                inquiryId: inquiry.inquiryId,
                kind,
                digest: blindIndex(indexKey.key, kind, value),
                keyVersion: indexKey.version,
              });
            }
          }
        } finally {
          dataKey.fill(0);
        }
      }
    }
    return { dataKeys, attributes, indexes };
  }

  private async existingTokens(
    items: { organizationId: string; inquiryId: string }[],
  ): Promise<Map<string, VaultedInquiry['tokens']>> {
    const out = new Map<string, VaultedInquiry['tokens']>();
    if (items.length === 0) return out;
    const rows = await queryRows<{
      organization_id: string;
      inquiry_id: string;
      tokens: Record<string, string> | null;
      destroyed: boolean;
    }>(
      this.dataSource,
      `select d.organization_id, d.inquiry_id, d.destroyed_at is not null as destroyed,
              (select jsonb_object_agg(a.attribute, a.token) from encrypted_attributes a
                where a.organization_id = d.organization_id and a.inquiry_id = d.inquiry_id) as tokens
         from data_keys d
         join unnest($1::text[], $2::text[]) as want(org, inq) on d.organization_id = want.org and d.inquiry_id = want.inq`,
      [items.map((i) => i.organizationId), items.map((i) => i.inquiryId)],
    );
    for (const r of rows)
      out.set(key(r.organization_id, r.inquiry_id), (r.tokens ?? {}) as VaultedInquiry['tokens']);
    return out;
  }
}

function key(organizationId: string, inquiryId: string): string {
  return `${organizationId}\u0000${inquiryId}`;
}
