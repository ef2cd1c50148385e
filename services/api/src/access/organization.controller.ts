import { Controller, Req } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { ApiError, requestIdOf } from '@veil/platform/service';
import type { Request } from 'express';

import { AuditEventWriter } from '../audit-events/audit-event-writer';
import { Endpoint, input } from '../http/endpoint';
import { ROUTES } from '../http/routes';
import { AccessRepository } from './access.repository';
import { TenantDb } from './tenant-db';

@Controller()
export class OrganizationController {
  constructor(
    private readonly access: AccessRepository,
    private readonly tenants: TenantDb,
    private readonly audit: AuditEventWriter,
  ) {}

  @Endpoint(ROUTES.getOrganization)
  async get(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    input(ROUTES.getOrganization, req);
    const org = await this.access.organization(principal.organizationId);
    if (!org) throw ApiError.notFound();
    return {
      id: org.organizationId,
      name: org.name,
      status: org.status,
      enabledAttributes: org.enabledAttributes,
      createdAt: org.createdAt,
    };
  }

  @Endpoint(ROUTES.getEnabledAttributes)
  async enabledAttributes(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    input(ROUTES.getEnabledAttributes, req);
    const org = await this.access.organization(principal.organizationId);
    return { attributes: org?.enabledAttributes ?? [] };
  }

  /** Replaces the allowlist; the change and the audit event (old and new lists) commit together. */
  @Endpoint(ROUTES.putEnabledAttributes)
  async setEnabledAttributes(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { body } = input(ROUTES.putEnabledAttributes, req);
    const attributes = [...new Set(body.attributes)].sort();
    const requestId = requestIdOf(req);
    await this.tenants.forOrganization(principal.organizationId, async (tx) => {
      const before = await this.access.setEnabledAttributes(tx, principal.organizationId, attributes);
      await this.audit.emit(tx, principal, {
        action: 'org.enabled_attributes.changed',
        outcome: 'allowed',
        targets: { attributes },
        change: { field: 'enabledAttributes', before: [...before].sort(), after: attributes },
        requestId,
      });
    });
    return { attributes };
  }
}
