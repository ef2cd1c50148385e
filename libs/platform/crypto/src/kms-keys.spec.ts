import type { KMSClient } from '@aws-sdk/client-kms';
import { randomBytes } from 'node:crypto';

import { wrapDataKey } from './envelope-format';
import { KeyCache, KmsKeyService } from './kms-keys';

const isZero = (key: Buffer) => key.every((byte) => byte === 0);

describe('KeyCache', () => {
  it('loads once, shares concurrent loads, and reloads after max uses and max age', async () => {
    let now = 0;
    let loads = 0;
    const cache = new KeyCache({ maxAgeMs: 1_000, maxUses: 3, now: () => now });
    const load = async () => {
      loads++;
      return Buffer.alloc(32, loads);
    };
    const [a, b] = await Promise.all([cache.lease('org:1', load), cache.lease('org:1', load)]);
    expect(loads).toBe(1);
    expect(a.key).toBe(b.key);
    const first = a.key;
    a.release();
    b.release();
    (await cache.lease('org:1', load)).release(); // third use
    (await cache.lease('org:1', load)).release(); // fourth: over budget -> reload
    expect(loads).toBe(2);
    expect(isZero(first)).toBe(true); // the evicted key was zeroed: nobody held it any more
    now = 1_000;
    (await cache.lease('org:1', load)).release();
    expect(loads).toBe(3);
  });

  it('does not cache a failed load', async () => {
    const cache = new KeyCache({ maxAgeMs: 1_000, maxUses: 10 });
    await expect(cache.lease('k', () => Promise.reject(new Error('kms down')))).rejects.toThrow('kms down');
    await expect(
      cache.withKey(
        'k',
        async () => Buffer.alloc(32, 7),
        1,
        (key) => Buffer.from(key),
      ),
    ).resolves.toEqual(Buffer.alloc(32, 7));
  });

  it('never zeroes a key while it is leased, and zeroes it after the last release', async () => {
    const cache = new KeyCache({ maxAgeMs: 1_000, maxUses: 10 });
    const held = await cache.lease('k', async () => Buffer.alloc(32, 9));
    cache.evict('k');
    expect(held.key).toEqual(Buffer.alloc(32, 9));
    const bytes = held.key;
    held.release();
    expect(isZero(bytes)).toBe(true);
    expect(() => held.key).toThrow('after release');
  });

  // The interleaving behind keys wrapped under zeros: every use evicts, and holders await between
  // taking a key and using it (as a store does when it fetches the index key after the KEK).
  it('never hands out a zeroed buffer under churn (max uses 1, max age 0, 3,000 concurrent holders)', async () => {
    const cache = new KeyCache({ maxAgeMs: 0, maxUses: 1 });
    const originals = new Map<string, Buffer>();
    const load = (id: string) => async () => {
      await new Promise((resolve) => setImmediate(resolve));
      const key = randomBytes(32);
      originals.set(`${id}:${key.toString('hex')}`, Buffer.from(key));
      return key;
    };
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 3_000 }, async (_, i) => {
        const id = `org:${i % 3}`;
        await cache.withKey(id, load(id), 1, async (key) => {
          if (isZero(key)) seen.push(`zeroed on receipt (${i})`);
          const before = key.toString('hex');
          for (let step = 0; step < 3; step++) await new Promise((resolve) => setImmediate(resolve));
          if (key.toString('hex') !== before) seen.push(`changed while held (${i})`);
          wrapDataKey(key, randomBytes(32), {
            organizationId: id,
            inquiryId: `inq_${i}`,
            dataKeyVersion: 1,
            kekVersion: 1,
          });
        });
      }),
    );
    expect(seen).toEqual([]);
  });

  it('refuses to cache or wrap under an all-zero key', async () => {
    const cache = new KeyCache({ maxAgeMs: 1_000, maxUses: 10 });
    expect(() => cache.put('k', Buffer.alloc(32))).toThrow('all-zero');
    await expect(cache.lease('k', async () => Buffer.alloc(32))).rejects.toThrow('all-zero');
    expect(() =>
      wrapDataKey(Buffer.alloc(32), randomBytes(32), {
        organizationId: 'org_a',
        inquiryId: 'inq_a',
        dataKeyVersion: 1,
        kekVersion: 1,
      }),
    ).toThrow('all-zero');
  });
});

describe('KmsKeyService', () => {
  it("zeroes the plaintext key bytes of the SDK's responses once it has its own copy", async () => {
    const responses: Uint8Array[] = [];
    const client = {
      send: async () => {
        const plaintext = new Uint8Array(randomBytes(32));
        responses.push(plaintext);
        return { Plaintext: plaintext, CiphertextBlob: new Uint8Array(8).fill(1), KeyId: 'key-1' };
      },
    } as unknown as KMSClient;
    const kms = new KmsKeyService(client, 'alias/test');
    const generated = await kms.generate({ organizationId: 'org_a' });
    const decrypted = await kms.decrypt(generated.wrapped, { organizationId: 'org_a' });
    expect(responses).toHaveLength(2);
    for (const response of responses) expect(response.every((byte) => byte === 0)).toBe(true);
    expect(isZero(generated.plaintext)).toBe(false);
    expect(isZero(decrypted)).toBe(false);
  });
});
