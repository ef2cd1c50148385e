import { Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';

import { AuthError } from './auth-error';

export interface RateLimitOptions {
  /** Requests per second a key may sustain; also the burst size. */
  perSecond: number;
}

export const RATE_LIMIT_OPTIONS = Symbol('RATE_LIMIT_OPTIONS');

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Per-key token bucket, per process (each replica counts on its own: N replicas behind a balancer
 * let a key through at up to N times the rate), with the IETF `RateLimit-Limit`,
 * `RateLimit-Remaining` and `RateLimit-Reset` headers on every answer and 429 + `Retry-After` when
 * the bucket is empty. ApiKeyGuard takes a token as soon as the key is known, before its scopes are
 * checked: denied requests count too (each denial is audited, so they must not be free).
 */
@Injectable()
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(@Inject(RATE_LIMIT_OPTIONS) private readonly options: RateLimitOptions) {}

  /** Takes one request from `keyId`'s bucket, or throws 429; sets the headers either way. */
  take(keyId: string, res: Response): void {
    const { perSecond } = this.options;
    const now = Date.now();
    const bucket = this.buckets.get(keyId) ?? { tokens: perSecond, updatedAt: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.updatedAt) / 1000) * perSecond);
    bucket.updatedAt = now;
    this.buckets.set(keyId, bucket);
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    const resetSeconds = Math.max(1, Math.ceil((perSecond - bucket.tokens) / perSecond));
    res.setHeader('RateLimit-Limit', String(perSecond));
    res.setHeader('RateLimit-Remaining', String(Math.floor(bucket.tokens)));
    res.setHeader('RateLimit-Reset', String(resetSeconds));
    if (!allowed) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond))));
      throw new AuthError(429, 'rate_limited', `rate limit of ${perSecond} requests per second exceeded`);
    }
  }
}
