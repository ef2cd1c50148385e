import { randomBytes, randomUUID } from 'node:crypto';

/** A fresh organization id per test, so tests never see each other's data. */
export function testOrganizationId(): string {
  return `org_test_${randomBytes(6).toString('hex')}`;
}

export function testId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** A unique, greppable PII stand-in. A hit anywhere it must not be is a leak. */
export function canary(kind = 'PII'): string {
  return `CANARY-${kind}-${randomUUID()}`;
}
