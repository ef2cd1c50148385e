import { Controller, Req } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { ApiError, requestIdOf } from '@veil/platform/service';
import type { Request } from 'express';

import { TenantDb } from '../access/tenant-db';
import type { LegalHold } from '../http/api-schemas';
import { Endpoint, input } from '../http/endpoint';
import { ROUTES } from '../http/routes';
import { InquiriesRepository } from '../inquiries/inquiries.repository';
import { VaultClient } from '../vault-client/vault-client';
import { RetentionClient } from './retention.client';

type VaultHold = Awaited<ReturnType<VaultClient['releaseHold']>>;

/** Retention policies (the retention service) and legal holds (kept by the vault, where redactions apply). */
@Controller()
export class RetentionController {
  constructor(
    private readonly retention: RetentionClient,
    private readonly vault: VaultClient,
    private readonly tenants: TenantDb,
    private readonly inquiries: InquiriesRepository,
  ) {}

  @Endpoint(ROUTES.getRetentionPolicy)
  getPolicy(@CurrentPrincipal() principal: Principal) {
    return this.retention.getPolicy(principal.organizationId);
  }

  @Endpoint(ROUTES.putRetentionPolicy)
  putPolicy(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { body } = input(ROUTES.putRetentionPolicy, req);
    const templates = body.rules.map((r) => r.templateId ?? '');
    if (new Set(templates).size !== templates.length)
      throw ApiError.badRequest('at most one rule per template, and one default rule', {
        fields: [{ path: 'body.rules', issue: 'duplicate_template' }],
      });
    return this.retention.putPolicy({
      organizationId: principal.organizationId,
      rules: body.rules,
      actor: { type: 'api_key', id: principal.keyId },
      requestId: requestIdOf(req),
    });
  }

  @Endpoint(ROUTES.previewRetention)
  preview(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.previewRetention, req);
    return this.retention.preview(principal.organizationId, query.days);
  }

  @Endpoint(ROUTES.createLegalHold)
  async createHold(@CurrentPrincipal() principal: Principal, @Req() req: Request): Promise<LegalHold> {
    const { body } = input(ROUTES.createLegalHold, req);
    const requestId = requestIdOf(req);
    if (body.expiresAt !== undefined && Date.parse(body.expiresAt) <= Date.now())
      throw ApiError.badRequest('expiresAt must be in the future', {
        fields: [{ path: 'body.expiresAt', issue: 'in_the_past' }],
      });
    let target: { kind: 'inquiry'; inquiryId: string } | { kind: 'subject'; subjectRef: string };
    if ('inquiryId' in body) {
      const inquiryId = body.inquiryId;
      const known = await this.tenants.forOrganization(principal.organizationId, (tx) =>
        this.inquiries.get(tx, principal.organizationId, inquiryId),
      );
      if (!known) throw ApiError.notFound('no such inquiry'); // another organization's id too
      target = { kind: 'inquiry', inquiryId };
    } else {
      target = {
        kind: 'subject',
        subjectRef: await this.vault.subjectRef(principal, body.referenceId, requestId),
      };
    }
    return view(
      await this.vault.placeHold(principal, requestId, {
        target,
        basis: body.basis,
        ...(body.expiresAt ? { expiresAt: body.expiresAt } : {}),
      }),
    );
  }

  @Endpoint(ROUTES.listLegalHolds)
  async listHolds(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.listLegalHolds, req);
    return {
      data: (await this.vault.listHolds(principal, requestIdOf(req), query.includeReleased)).map(view),
    };
  }

  @Endpoint(ROUTES.releaseLegalHold)
  async releaseHold(@CurrentPrincipal() principal: Principal, @Req() req: Request): Promise<LegalHold> {
    const { params } = input(ROUTES.releaseLegalHold, req);
    return view(await this.vault.releaseHold(principal, requestIdOf(req), params.holdId));
  }
}

function view(hold: VaultHold): LegalHold {
  return {
    id: hold.holdId,
    type: 'legal_hold',
    target: hold.target,
    basis: hold.basis,
    expiresAt: hold.expiresAt,
    createdAt: hold.createdAt,
    releasedAt: hold.releasedAt,
  };
}
