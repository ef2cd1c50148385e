import { randomBytes } from 'node:crypto';

import {
  blindIndex,
  decryptField,
  encryptField,
  FORMAT_V1,
  IntegrityError,
  newDataKey,
  unwrapDataKey,
  wrapDataKey,
} from './envelope-format';

const ctx = { organizationId: 'org_a', inquiryId: 'inq_1', attribute: 'nameFirst', dataKeyVersion: 1 };

describe('field encryption (AES-256-GCM, format v1)', () => {
  const key = newDataKey();

  it('round-trips and uses a fresh IV every time', () => {
    const a = encryptField(key, 'Ada', ctx);
    const b = encryptField(key, 'Ada', ctx);
    expect(a[0]).toBe(FORMAT_V1);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(decryptField(key, a, ctx)).toBe('Ada');
    expect(a.length).toBe(1 + 12 + 3 + 16);
  });

  it.each([
    ['another attribute', { ...ctx, attribute: 'nameLast' }],
    ['another inquiry', { ...ctx, inquiryId: 'inq_2' }],
    ['another organization', { ...ctx, organizationId: 'org_b' }],
    ['another key version', { ...ctx, dataKeyVersion: 2 }],
  ])('refuses a ciphertext moved to %s', (_, moved) => {
    const sealed = encryptField(key, 'Ada', ctx);
    expect(() => decryptField(key, sealed, moved)).toThrow(IntegrityError);
  });

  it('refuses any single flipped bit, a truncation, a wrong key and an unknown format', () => {
    const sealed = encryptField(key, 'Ada Lovelace', ctx);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const tampered = Buffer.from(sealed);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => decryptField(key, tampered, ctx)).toThrow(IntegrityError);
    }
    expect(() => decryptField(key, sealed.subarray(0, sealed.length - 1), ctx)).toThrow(IntegrityError);
    expect(() => decryptField(newDataKey(), sealed, ctx)).toThrow(IntegrityError);
    expect(() => decryptField(key, Buffer.alloc(5), ctx)).toThrow(IntegrityError);
  });
});

describe('data key wrapping', () => {
  it('binds the wrapped key to its inquiry and key versions', () => {
    const kek = randomBytes(32);
    const dek = newDataKey();
    const dctx = { organizationId: 'org_a', inquiryId: 'inq_1', dataKeyVersion: 1, kekVersion: 3 };
    const wrapped = wrapDataKey(kek, dek, dctx);
    expect(unwrapDataKey(kek, wrapped, dctx).equals(dek)).toBe(true);
    expect(() => unwrapDataKey(kek, wrapped, { ...dctx, kekVersion: 4 })).toThrow(IntegrityError);
    expect(() => unwrapDataKey(kek, wrapped, { ...dctx, inquiryId: 'inq_2' })).toThrow(IntegrityError);
  });
});

describe('blind indexes', () => {
  const indexKey = randomBytes(32);

  it('matches normalized spellings and differs by kind and key', () => {
    expect(blindIndex(indexKey, 'emailAddress', ' Ada@Example.COM ')).toBe(
      blindIndex(indexKey, 'emailAddress', 'ada@example.com'),
    );
    expect(blindIndex(indexKey, 'identificationNumber', 'x12-345 67')).toBe(
      blindIndex(indexKey, 'identificationNumber', 'X1234567'),
    );
    expect(blindIndex(indexKey, 'referenceId', 'X1234567')).not.toBe(
      blindIndex(indexKey, 'identificationNumber', 'X1234567'),
    );
    expect(blindIndex(randomBytes(32), 'emailAddress', 'ada@example.com')).not.toBe(
      blindIndex(indexKey, 'emailAddress', 'ada@example.com'),
    );
    expect(blindIndex(indexKey, 'emailAddress', 'ada@example.com')).toMatch(/^[a-f0-9]{64}$/);
  });
});
