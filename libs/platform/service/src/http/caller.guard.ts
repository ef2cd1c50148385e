import { createHash, timingSafeEqual } from 'node:crypto';

import { type CanActivate, type ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { InternalOperation } from '@veil/contracts';
import type { Request } from 'express';

import { ApiError } from './api-error';

/** Provide `{ caller name: its token }` under this token in the module that uses the guard. */
export const CALLER_TOKENS = Symbol('CALLER_TOKENS');

const OPERATION = Symbol('veil:internal-operation');

/** Binds a handler to its operation of an internal API contract (which names the callers allowed). */
export const ServesOperation = (operation: InternalOperation): MethodDecorator =>
  SetMetadata(OPERATION, operation);

/** The operation a handler serves, as the guard reads it (tests hold controllers to their contract). */
export function servedOperation(handler: (...args: never[]) => unknown): InternalOperation | undefined {
  return new Reflector().get<InternalOperation | undefined>(OPERATION, handler);
}

export type CallerRequest = Request & { caller?: string };

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Service-to-service authentication, one credential per calling service: the bearer token names the
 * caller (compared in constant time), and the operation's contract says whether that caller may use
 * it. Unknown token: 401. Known caller, operation not its own: 403.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  private readonly callers: { name: string; digest: Buffer }[];

  constructor(
    @Inject(CALLER_TOKENS) tokens: Record<string, string>,
    private readonly reflector: Reflector,
  ) {
    const values = Object.values(tokens);
    if (values.some((t) => t.length < 16)) throw new Error('service tokens must be at least 16 characters');
    if (new Set(values).size !== values.length) throw new Error('each caller needs its own service token');
    this.callers = Object.entries(tokens).map(([name, token]) => ({ name, digest: digest(token) }));
  }

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<CallerRequest>();
    const operation = this.reflector.get<InternalOperation | undefined>(OPERATION, context.getHandler());
    if (!operation) throw new Error('an internal route must name its operation (@ServesOperation)');
    const presented = /^Bearer (\S+)$/.exec(req.header('authorization') ?? '')?.[1];
    const presentedDigest = presented ? digest(presented) : undefined;
    // Compare against every caller (no early exit) so timing does not tell which one matched.
    let caller: string | undefined;
    for (const candidate of this.callers)
      if (presentedDigest && timingSafeEqual(presentedDigest, candidate.digest)) caller = candidate.name;
    if (!caller) throw ApiError.unauthorized();
    if (!operation.callers.includes(caller))
      throw new ApiError(403, 'forbidden', `the ${caller} credential may not use this operation`);
    req.caller = caller;
    return true;
  }
}
