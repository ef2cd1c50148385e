import { createHash, timingSafeEqual } from 'node:crypto';

import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';

import { ApiError } from './api-error';

/** Provide the expected token under this injection token in the module that uses the guard. */
export const SERVICE_TOKEN = Symbol('SERVICE_TOKEN');

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Service-to-service authentication with a shared bearer token, compared in constant time.
 * (Organization API keys for customers are a different mechanism.)
 */
@Injectable()
export class ServiceTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(SERVICE_TOKEN) token: string) {
    if (token.length < 16) throw new Error('service tokens must be at least 16 characters');
    this.expected = digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<Request>().header('authorization') ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match || !timingSafeEqual(digest(match[1]!), this.expected)) throw ApiError.unauthorized();
    return true;
  }
}
