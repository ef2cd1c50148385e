import { Injectable } from '@nestjs/common';
import { InquiryId, type PiiAttribute, Timestamp } from '@veil/contracts';
import type { Principal } from '@veil/platform/auth';
import { ApiError } from '@veil/platform/service';
import type { z } from 'zod';

import { TenantDb } from '../access/tenant-db';
import type { Inquiry, ListInquiriesQuery } from '../http/api-schemas';
import { VaultClient, type RevealedInquiry } from '../vault-client/vault-client';
import { InquiriesRepository, type InquiryRow } from './inquiries.repository';

const MASKED = { redacted: false, available: true } as const;
const REDACTED = { redacted: true, available: false } as const;

/**
 * Inquiries as customers see them: the PII-free record, plus plaintext for exactly the attributes
 * the organization enabled, and only for keys with `pii:reveal` — every other attribute present as
 * a masked marker. Reveals go through the vault, which audits them before returning anything.
 */
@Injectable()
export class InquiriesService {
  constructor(
    private readonly tenants: TenantDb,
    private readonly repository: InquiriesRepository,
    private readonly vault: VaultClient,
  ) {}

  async get(principal: Principal, inquiryId: string, requestId: string): Promise<Inquiry> {
    const row = await this.tenants.forOrganization(principal.organizationId, (tx) =>
      this.repository.get(tx, principal.organizationId, inquiryId),
    );
    if (!row) throw ApiError.notFound('no such inquiry');
    const [inquiry] = await this.render(principal, [row], requestId, 'GET /v1/inquiries/{inquiryId}');
    return inquiry!;
  }

  async list(
    principal: Principal,
    query: z.infer<typeof ListInquiriesQuery>,
    requestId: string,
  ): Promise<{ data: Inquiry[]; nextCursor: string | null }> {
    const inquiryIds = query.referenceId
      ? await this.vault.lookupByReferenceId(principal, query.referenceId, requestId)
      : undefined;
    if (inquiryIds && inquiryIds.length === 0) return { data: [], nextCursor: null };
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.tenants.forOrganization(principal.organizationId, (tx) =>
      this.repository.list(tx, principal.organizationId, {
        ...(query.status ? { status: query.status } : {}),
        ...(query.createdAfter ? { createdAfter: query.createdAfter } : {}),
        ...(query.createdBefore ? { createdBefore: query.createdBefore } : {}),
        ...(inquiryIds ? { inquiryIds } : {}),
        ...(after ? { after } : {}),
        limit: query.pageSize + 1,
      }),
    );
    const page = rows.slice(0, query.pageSize);
    const last = page[page.length - 1];
    return {
      data: await this.render(principal, page, requestId, 'GET /v1/inquiries'),
      nextCursor: rows.length > query.pageSize && last ? encodeCursor(last) : null,
    };
  }

  private async render(
    principal: Principal,
    rows: InquiryRow[],
    requestId: string,
    route: string,
  ): Promise<Inquiry[]> {
    const mayReveal = principal.scopes.has('pii:reveal');
    const wanted = new Set<PiiAttribute>();
    const toReveal = rows.filter((row) => {
      if (!mayReveal || row.redacted_at) return false;
      const enabled = row.attributes_provided.filter((a) => row.enabled_attributes.includes(a));
      enabled.forEach((a) => wanted.add(a));
      return enabled.length > 0;
    });
    const revealed: Map<string, RevealedInquiry> =
      toReveal.length > 0
        ? await this.vault.reveal({
            principal,
            inquiryIds: toReveal.map((r) => r.inquiry_id),
            attributes: [...wanted],
            purpose: `customer API: ${route}`,
            requestId,
          })
        : new Map();
    return rows.map((row) => {
      const plain = revealed.get(row.inquiry_id);
      const attributes: Inquiry['attributes'] = {};
      for (const attribute of row.attributes_provided) {
        const value = row.enabled_attributes.includes(attribute) ? plain?.attributes[attribute] : undefined;
        attributes[attribute] = row.redacted_at || plain?.redacted ? REDACTED : (value ?? MASKED);
      }
      return {
        id: row.inquiry_id,
        type: 'inquiry',
        status: row.status,
        templateId: row.template_id,
        createdAt: row.created_at.toISOString(),
        redactedAt: row.redacted_at?.toISOString() ?? null,
        attributes,
      };
    });
  }
}

function encodeCursor(row: InquiryRow): string {
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.inquiry_id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; inquiryId: string } {
  try {
    const [createdAt, inquiryId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [
      unknown,
      unknown,
    ];
    // only what encodeCursor writes: anything else would reach PostgreSQL as a bad timestamp or text
    if (Timestamp.safeParse(createdAt).success && InquiryId.safeParse(inquiryId).success) {
      return { createdAt: createdAt as string, inquiryId: inquiryId as string };
    }
  } catch {
    // fall through
  }
  throw ApiError.badRequest('invalid cursor', { fields: [{ path: 'query.cursor', issue: 'invalid' }] });
}
