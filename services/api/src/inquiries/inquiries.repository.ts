import { Inject, Injectable } from '@nestjs/common';
import type { InquiryRecordedV1, PiiAttribute } from '@veil/contracts';
import { lockOrganizations, queryRows } from '@veil/platform/database';
import type { EntityManager } from 'typeorm';

import { API_CONFIG, type ApiConfig } from '../config';

export interface InquiryRow {
  inquiry_id: string;
  template_id: string;
  status: InquiryRecordedV1['status'];
  attributes_provided: PiiAttribute[];
  created_at: Date;
  redacted_at: Date | null;
  enabled_attributes: PiiAttribute[];
}

export interface ListFilter {
  status?: string;
  createdAfter?: string;
  createdBefore?: string;
  inquiryIds?: string[];
  after?: { createdAt: string; inquiryId: string };
  limit: number;
}

/**
 * The PII-free inquiry read model, built from `inquiry.recorded`. Every query filters by the
 * caller's organization; row-level security (set by TenantDb) is the second line. In test builds
 * the first line can be switched off to prove the second one holds.
 */
@Injectable()
export class InquiriesRepository {
  private readonly tenantFilter: boolean;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.tenantFilter = !config.API_TEST_DISABLE_TENANT_FILTER;
  }

  private orgCondition(param: string): string {
    // Switched off (test builds only), the parameter stays in the query, but filters nothing.
    return this.tenantFilter ? `i.organization_id = ${param}` : `${param}::text is not null`;
  }

  async get(tx: EntityManager, organizationId: string, inquiryId: string): Promise<InquiryRow | undefined> {
    const [row] = await queryRows<InquiryRow>(
      tx,
      `select i.inquiry_id, i.template_id, i.status, i.attributes_provided, i.created_at, i.redacted_at,
              coalesce(o.enabled_attributes, '{}') as enabled_attributes
         from inquiries i left join organizations o on o.organization_id = i.organization_id
        where ${this.orgCondition('$1')} and i.inquiry_id = $2
        limit 1`,
      [organizationId, inquiryId],
    );
    return row;
  }

  async list(tx: EntityManager, organizationId: string, filter: ListFilter): Promise<InquiryRow[]> {
    const params: unknown[] = [organizationId];
    const where = [this.orgCondition('$1')];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filter.status) add((p) => `i.status = ${p}`, filter.status);
    if (filter.createdAfter) add((p) => `i.created_at >= ${p}::timestamptz`, filter.createdAfter);
    if (filter.createdBefore) add((p) => `i.created_at < ${p}::timestamptz`, filter.createdBefore);
    if (filter.inquiryIds) add((p) => `i.inquiry_id = any(${p}::text[])`, filter.inquiryIds);
    if (filter.after) {
      params.push(filter.after.createdAt, filter.after.inquiryId);
      where.push(`(i.created_at, i.inquiry_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(filter.limit);
    return queryRows<InquiryRow>(
      tx,
      `select i.inquiry_id, i.template_id, i.status, i.attributes_provided, i.created_at, i.redacted_at,
              coalesce(o.enabled_attributes, '{}') as enabled_attributes
         from inquiries i left join organizations o on o.organization_id = i.organization_id
        where ${where.join(' and ')}
        order by i.created_at desc, i.inquiry_id desc
        limit $${params.length}`,
      params,
    );
  }

  /**
   * From `inquiry.recorded` (consumer, system context): inserts missing rows, idempotent per
   * inquiry; redacted from the start when the record says so or a redaction came first.
   */
  async insertFromRecorded(
    tx: EntityManager,
    rows: { organizationId: string; data: InquiryRecordedV1 }[],
  ): Promise<void> {
    await lockReadModel(
      tx,
      rows.map((r) => r.organizationId),
      'shared',
    );
    await tx.query(
      `insert into inquiries (organization_id, inquiry_id, template_id, status, attributes_provided, created_at, redacted_at)
       select org, inq, tmpl, st, attrs, at,
              coalesce(red, (select x.redacted_at from inquiry_redactions x where x.organization_id = org and x.inquiry_id = inq))
         from json_to_recordset($1::json)
           as r(org text, inq text, tmpl text, st text, attrs text[], at timestamptz, red timestamptz)
       on conflict (organization_id, inquiry_id) do nothing`,
      [
        JSON.stringify(
          rows.map((r) => ({
            org: r.organizationId,
            inq: r.data.inquiryId,
            tmpl: r.data.templateId,
            st: r.data.status,
            attrs: r.data.attributesProvided,
            at: r.data.createdAt,
            red: r.data.redactedAt ?? null,
          })),
        ),
      ],
    );
  }
}

/**
 * Records and redactions of the same organizations take turns: a redaction that arrives while an
 * inquiry's record is being inserted waits for it, so neither misses the other.
 */
export function lockReadModel(
  tx: EntityManager,
  organizationIds: string[],
  mode: 'shared' | 'exclusive',
): Promise<void> {
  return lockOrganizations(tx, READ_MODEL_LOCKS, organizationIds, mode);
}

/** Lock space of the read model's organizations (see lockReadModel). */
const READ_MODEL_LOCKS = 2001;
