import {
  type CanActivate,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  Optional,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';

import { ACCESS_GRANT_MINTER, type AccessGrantMinter, signGrant } from './access-grant';
import type { Scope } from './api-keys';
import { AuthError } from './auth-error';
import { ApiKeyRegistry, type Principal } from './key-registry';
import { RateLimiter } from './rate-limiter';

const REQUIRED_SCOPES = Symbol('veil:required-scopes');

/** The scopes a route needs (all of them). A route without it is not reachable with an API key. */
export const RequireScopes = (...scopes: Scope[]): MethodDecorator & ClassDecorator =>
  SetMetadata(REQUIRED_SCOPES, scopes);

/** The authenticated key: organization, key id, scopes. The organization comes from here only. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = (ctx.switchToHttp().getRequest<Request>() as Request & { principal?: Principal })
    .principal;
  if (!principal) throw new Error('no principal: the route is missing ApiKeyGuard');
  return principal;
});

/** Called for every denial (403) so the service can audit it; failures of the hook fail the request. */
export interface DenialAuditor {
  denied(principal: Principal, route: string, missing: Scope[], requestId: string): Promise<void>;
}

export const DENIAL_AUDITOR = Symbol('DENIAL_AUDITOR');

/**
 * Authenticates `Authorization: Bearer veil_sk_…` against the in-memory registry and checks the
 * route's scopes. Missing, malformed, unknown, expired or revoked keys: 401 (one message for all:
 * no oracle). Then the key's rate limit (429), then its scopes: without a required scope, 403, audited.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly registry: ApiKeyRegistry,
    private readonly reflector: Reflector,
    @Inject(DENIAL_AUDITOR) private readonly auditor: DenialAuditor,
    @Optional() @Inject(ACCESS_GRANT_MINTER) private readonly minter?: AccessGrantMinter,
    @Optional() private readonly limiter?: RateLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal; requestId?: string }>();
    const header = req.header('authorization') ?? '';
    const bearer = /^Bearer (\S+)$/.exec(header)?.[1];
    const result = this.registry.verify(bearer);
    if (!result.ok) throw new AuthError(401, 'unauthorized', 'missing, invalid, expired or revoked API key');
    req.principal = result.principal;
    // Before the scope check: a key must not get unlimited (audited) denials.
    this.limiter?.take(result.principal.keyId, context.switchToHttp().getResponse<Response>());
    const required =
      this.reflector.getAllAndOverride<Scope[] | undefined>(REQUIRED_SCOPES, [
        context.getHandler(),
        context.getClass(),
      ]) ?? [];
    const missing = required.filter((s) => !result.principal.scopes.has(s));
    if (missing.length > 0) {
      await this.auditor.denied(
        result.principal,
        `${req.method} ${req.route?.path ?? req.path}`,
        missing,
        req.requestId ?? 'unknown',
      );
      throw new AuthError(403, 'forbidden', `this API key lacks the scope ${missing.join(', ')}`, {
        missingScopes: missing,
      });
    }
    if (this.minter) {
      // Proof, for the service it calls next, of whose request this is: only a verified key gets one.
      // Signed when first read: most requests call no other service and need none.
      const { key, ttlMs } = this.minter;
      const { organizationId, keyId, scopes } = result.principal;
      const requestId = req.requestId ?? 'unknown';
      let grant: string | undefined;
      req.principal = Object.defineProperty({ ...result.principal }, 'grant', {
        enumerable: true,
        get: () =>
          (grant ??= signGrant(key, {
            organizationId,
            keyId,
            requestId,
            scopes: [...scopes],
            expiresAt: Date.now() + ttlMs,
          })),
      });
    }
    return true;
  }
}
