import { isTransientDatabaseError } from '@veil/platform/database';

import { backoffDelay, DEFAULT_BACKOFF } from './backoff';
import { classifyError, errorCode, PermanentError, TransientError } from './errors';

describe('classifyError', () => {
  const classify = (e: unknown) => classifyError(e, isTransientDatabaseError);

  it('retries what a dependency outage looks like', () => {
    expect(classify(new TransientError('kms throttled'))).toBe('transient');
    expect(
      classify(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    ).toBe('transient');
    expect(
      classify(
        Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      ),
    ).toBe('transient');
    expect(classify({ name: 'QueryFailedError', driverError: { code: '40001' } })).toBe('transient');
    expect(classify(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classify(Object.assign(new Error('rate exceeded'), { name: 'ThrottlingException' }))).toBe(
      'transient',
    );
  });

  it('dead-letters what a handler declares permanent', () => {
    expect(classify(new PermanentError('unknown_org', 'organization is not registered'))).toBe('permanent');
  });

  it('treats everything else as unknown: retried for a round, then isolated', () => {
    expect(classify(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe('unknown');
    expect(
      classify(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })),
    ).toBe('unknown');
    expect(classify(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe('unknown');
  });

  it('retries what AWS SDK v3 marks retryable or answers with a 5xx', () => {
    expect(classify({ name: 'SomeNewException', $retryable: { throttling: true } })).toBe('transient');
    expect(classify({ name: 'InternalFailure', $metadata: { httpStatusCode: 503 } })).toBe('transient');
    expect(classify({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })).toBe('unknown');
  });

  it('derives a short error code without quoting the message', () => {
    expect(errorCode(new PermanentError('unknown_org', 'x'))).toBe('unknown_org');
    expect(errorCode(new TypeError('ada@example.com'))).toBe('handler_TypeError');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter inside the window', () => {
    const policy = { ...DEFAULT_BACKOFF, initialMs: 100, maxMs: 1_000 };
    expect(backoffDelay(0, policy, () => 0)).toBe(50);
    expect(backoffDelay(0, policy, () => 1)).toBe(100);
    expect(backoffDelay(3, policy, () => 1)).toBe(800);
    expect(backoffDelay(10, policy, () => 1)).toBe(1_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, policy);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});
