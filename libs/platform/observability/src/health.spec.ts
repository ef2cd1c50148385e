import { HealthRegistry } from './health';

describe('HealthRegistry', () => {
  it('is ready only when every registered check passes in time', async () => {
    const registry = new HealthRegistry();
    registry.register('database', async () => undefined);
    expect(await registry.readiness()).toMatchObject({ ready: true, checks: { database: { status: 'up' } } });

    registry.register('kafka', () => Promise.reject(new Error('broker unreachable')));
    registry.register('kms', () => new Promise(() => undefined)); // never answers
    const result = await registry.readiness(50);
    expect(result.ready).toBe(false);
    expect(result.checks).toMatchObject({
      database: { status: 'up' },
      kafka: { status: 'down', error: 'broker unreachable' },
      kms: { status: 'down', error: 'no answer in 50 ms' },
    });
  });

  it('stops being ready as soon as shutdown begins', async () => {
    const registry = new HealthRegistry();
    registry.register('database', async () => undefined);
    registry.beforeApplicationShutdown();
    expect(await registry.readiness()).toMatchObject({
      ready: false,
      checks: { shutdown: { status: 'down' } },
    });
  });
});
