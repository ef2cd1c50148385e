import { Inject, Injectable } from '@nestjs/common';
import type { AuditActor } from '@veil/contracts';
import { grantKey, type Scope, verifyGrant } from '@veil/platform/auth';
import { MetricsService } from '@veil/platform/observability';
import { Counter } from 'prom-client';
import type { z } from 'zod';

import { VAULT_CONFIG, type VaultConfig } from '../config';

export interface GrantedRequest {
  organizationId: string;
  actor: z.infer<typeof AuditActor>;
  requestId: string;
  grant: string;
}

/**
 * Checks that a customer-initiated request is exactly what the customer API vouched for: a grant
 * signed with the shared grant key, unexpired, for this organization, this API key as the actor,
 * this request id, and a key holding the scope the operation needs.
 */
@Injectable()
export class GrantChecker {
  private readonly key: Buffer;
  private readonly rejected: Counter<'reason'>;

  constructor(@Inject(VAULT_CONFIG) config: VaultConfig, metrics: MetricsService) {
    this.key = grantKey(config.VAULT_GRANT_KEY);
    this.rejected = new Counter({
      name: 'veil_vault_grants_rejected_total',
      help: 'Requests refused because their access grant was malformed, forged, expired or did not match.',
      labelNames: ['reason'],
      registers: [metrics.registry],
    });
  }

  /** `scope`: the scope the operation needs, or a list of scopes any one of which will do. */
  authorizes(request: GrantedRequest, scope: Scope | readonly Scope[]): boolean {
    const accepted: readonly Scope[] = typeof scope === 'string' ? [scope] : scope;
    const check = verifyGrant(this.key, request.grant);
    let reason: string | undefined;
    if (!check.ok) reason = check.reason;
    else if (check.grant.organizationId !== request.organizationId) reason = 'organization';
    else if (request.actor.type !== 'api_key' || request.actor.id !== check.grant.keyId) reason = 'actor';
    else if (check.grant.requestId !== request.requestId) reason = 'request';
    else if (!accepted.some((s) => check.grant.scopes.includes(s))) reason = 'scope';
    if (reason) this.rejected.inc({ reason });
    return reason === undefined;
  }
}
