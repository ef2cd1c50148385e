import { KeyCache } from './kms-keys';

describe('KeyCache', () => {
  it('loads once, shares concurrent loads, and reloads after max uses and max age', async () => {
    let now = 0;
    let loads = 0;
    const cache = new KeyCache({ maxAgeMs: 1_000, maxUses: 3, now: () => now });
    const load = async () => {
      loads++;
      return Buffer.alloc(32, loads);
    };
    const [a, b] = await Promise.all([cache.use('org:1', load), cache.use('org:1', load)]);
    expect(loads).toBe(1);
    expect(a).toBe(b);
    await cache.use('org:1', load); // third use
    await cache.use('org:1', load); // fourth: over budget -> reload
    expect(loads).toBe(2);
    expect(a.every((byte) => byte === 0)).toBe(true); // the evicted key was zeroed
    now = 1_000;
    await cache.use('org:1', load);
    expect(loads).toBe(3);
  });

  it('does not cache a failed load', async () => {
    const cache = new KeyCache({ maxAgeMs: 1_000, maxUses: 10 });
    await expect(cache.use('k', () => Promise.reject(new Error('kms down')))).rejects.toThrow('kms down');
    await expect(cache.use('k', async () => Buffer.alloc(32, 7))).resolves.toEqual(Buffer.alloc(32, 7));
  });
});
