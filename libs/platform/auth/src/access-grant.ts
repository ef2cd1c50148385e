import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Scope } from './api-keys';

/**
 * What a service that verified an API key vouches for when it calls another on the customer's behalf:
 * this organization's key `keyId`, holding `scopes`, made request `requestId`. The callee audits the
 * organization, actor and request id of a reveal or lookup only as a grant states them, so a
 * caller cannot choose whose access is recorded, or reach another organization.
 */
export interface AccessGrant {
  organizationId: string;
  keyId: string;
  requestId: string;
  scopes: Scope[];
  /** Milliseconds since the epoch; grants live seconds, just long enough for the request. */
  expiresAt: number;
}

export type GrantCheck =
  { ok: true; grant: AccessGrant } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

const VERSION = 'g1';

/** HMAC-SHA256 key shared by the service minting grants and the one checking them; at least 32 bytes of randomness. */
export function grantKey(secret: string): Buffer {
  const key = Buffer.from(secret, 'base64');
  if (key.length < 32) throw new Error('an access grant key must be at least 32 bytes (base64)');
  return key;
}

export function signGrant(key: Buffer, grant: AccessGrant): string {
  const body = Buffer.from(
    JSON.stringify([
      VERSION,
      grant.organizationId,
      grant.keyId,
      grant.requestId,
      grant.scopes,
      grant.expiresAt,
    ]),
  ).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

export function verifyGrant(key: Buffer, token: string, now = Date.now()): GrantCheck {
  const dot = token.indexOf('.');
  if (dot <= 0) return { ok: false, reason: 'malformed' };
  const body = token.slice(0, dot);
  const presented = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = mac(key, body);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected))
    return { ok: false, reason: 'signature' };
  let fields: unknown;
  try {
    fields = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    !Array.isArray(fields) ||
    fields.length !== 6 ||
    fields[0] !== VERSION ||
    typeof fields[1] !== 'string' ||
    typeof fields[2] !== 'string' ||
    typeof fields[3] !== 'string' ||
    !Array.isArray(fields[4]) ||
    !(fields[4] as unknown[]).every((s) => typeof s === 'string') ||
    typeof fields[5] !== 'number'
  )
    return { ok: false, reason: 'malformed' };
  const grant: AccessGrant = {
    organizationId: fields[1],
    keyId: fields[2],
    requestId: fields[3],
    scopes: fields[4] as Scope[],
    expiresAt: fields[5],
  };
  if (grant.expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, grant };
}

function mac(key: Buffer, body: string): Buffer {
  return createHmac('sha256', key).update('veil/access-grant/v1\u0000').update(body).digest();
}

/** Provided by a service that calls another for customers: the guard mints a grant per request. */
export interface AccessGrantMinter {
  key: Buffer;
  /** How long a grant stays valid: long enough for one request, including the call it makes. */
  ttlMs: number;
}

export const ACCESS_GRANT_MINTER = Symbol('ACCESS_GRANT_MINTER');
