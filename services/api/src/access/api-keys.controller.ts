import { Controller, Req } from '@nestjs/common';
import { ApiKeyRegistry, CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { ApiError, requestIdOf } from '@veil/platform/service';
import type { Request } from 'express';

import { AuditEventWriter } from '../audit-events/audit-event-writer';
import { LATEST_EXPIRY } from '../http/api-schemas';
import { Endpoint, input } from '../http/endpoint';
import { ROUTES } from '../http/routes';
import { AccessRepository, type ApiKeyView } from './access.repository';
import { TenantDb } from './tenant-db';

function present(key: ApiKeyView) {
  return {
    id: key.keyId,
    name: key.name,
    scopes: key.scopes,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    revokedAt: key.revokedAt,
  };
}

@Controller()
export class ApiKeysController {
  constructor(
    private readonly access: AccessRepository,
    private readonly tenants: TenantDb,
    private readonly audit: AuditEventWriter,
    private readonly registry: ApiKeyRegistry,
  ) {}

  @Endpoint(ROUTES.listApiKeys)
  async list(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.listApiKeys, req);
    const keys = await this.access.listKeys(principal.organizationId, {
      ...(query.cursor ? { afterKeyId: query.cursor } : {}),
      limit: query.pageSize + 1,
    });
    const page = keys.slice(0, query.pageSize);
    return {
      data: page.map(present),
      nextCursor: keys.length > query.pageSize ? page[page.length - 1]!.keyId : null,
    };
  }

  @Endpoint(ROUTES.createApiKey)
  async create(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { body } = input(ROUTES.createApiKey, req);
    if (body.expiresAt && Date.parse(body.expiresAt) <= Date.now()) {
      throw ApiError.badRequest('expiresAt must be in the future', {
        fields: [{ path: 'body.expiresAt', issue: 'in_the_past' }],
      });
    }
    // later instants have no four-digit-year ISO form to show the key's expiry in
    if (body.expiresAt && Date.parse(body.expiresAt) > Date.parse(LATEST_EXPIRY)) {
      throw ApiError.badRequest(`expiresAt must be no later than ${LATEST_EXPIRY}`, {
        fields: [{ path: 'body.expiresAt', issue: 'too_big' }],
      });
    }
    const created = await this.tenants.forOrganization(principal.organizationId, async (tx) => {
      const key = await this.access.createKey(tx, principal.organizationId, {
        name: body.name,
        scopes: [...new Set(body.scopes)],
        ...(body.expiresAt ? { expiresAt: new Date(body.expiresAt) } : {}),
        createdBy: principal.keyId,
      });
      await this.audit.emit(tx, principal, {
        action: 'api_key.created',
        outcome: 'allowed',
        targets: { resourceIds: [key.keyId] },
        change: { field: 'scopes', before: [], after: key.scopes },
        requestId: requestIdOf(req),
      });
      return key;
    });
    await this.registry.refresh();
    return { ...present(created), secret: created.secret };
  }

  @Endpoint(ROUTES.revokeApiKey)
  async revoke(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { params } = input(ROUTES.revokeApiKey, req);
    const revoked = await this.tenants.forOrganization(principal.organizationId, async (tx) => {
      const key = await this.access.revokeKey(tx, principal.organizationId, params.keyId);
      if (!key) return undefined;
      await this.audit.emit(tx, principal, {
        action: 'api_key.revoked',
        outcome: 'allowed',
        targets: { resourceIds: [key.keyId] },
        requestId: requestIdOf(req),
      });
      return key;
    });
    if (!revoked) throw ApiError.notFound('no such API key');
    await this.registry.refresh();
    return present(revoked);
  }
}
