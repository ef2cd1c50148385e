import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** What an organization API key may do. Least privilege: a key gets only the scopes it needs. */
export const SCOPES = [
  'inquiry:read',
  'inquiry:redact',
  'pii:reveal',
  'dsar:manage',
  'retention:manage',
  'audit:read',
  'org:admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Key secrets look like `veil_sk_<keyId>_<secret>`: the key id lets the verifier find the key
 * without a search, the 256-bit secret is what proves possession. Only SHA-256(secret) is stored:
 * with that much entropy a fast hash is as safe as a slow one, and verification stays cheap.
 */
const KEY_PATTERN = /^veil_sk_(key_[A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface IssuedKey {
  keyId: string;
  /** Shown once, at creation. */
  secret: string;
  secretHash: Buffer;
}

export function issueApiKey(): IssuedKey {
  const keyId = `key_${randomBytes(12).toString('base64url').replace(/[-_]/g, '').padEnd(16, '0').slice(0, 16)}`;
  const secretPart = randomBytes(32).toString('base64url');
  return { keyId, secret: `veil_sk_${keyId}_${secretPart}`, secretHash: hashSecret(secretPart) };
}

export function parseApiKey(presented: string): { keyId: string; secretPart: string } | undefined {
  const match = KEY_PATTERN.exec(presented);
  return match ? { keyId: match[1]!, secretPart: match[2]! } : undefined;
}

export function hashSecret(secretPart: string): Buffer {
  return createHash('sha256').update(secretPart, 'utf8').digest();
}

export function secretMatches(secretPart: string, storedHash: Buffer): boolean {
  const presented = hashSecret(secretPart);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
