/**
 * How the consumer runtime treats a failure:
 * - permanent: retrying cannot help (bad input, a rule the event breaks). Dead-lettered on the
 *   first attempt, with the code in the record's headers.
 * - transient: a dependency is down or busy (database, KMS, broker). Retried with backoff, the
 *   partition pauses between rounds, and the record is never dead-lettered.
 */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The event that caused it, when a handler can tell; lets the runtime skip the isolation pass. */
    readonly eventId?: string,
  ) {
    super(message);
    this.name = 'PermanentError';
  }
}

export class TransientError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

export type ErrorClass = 'permanent' | 'transient';

const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSConnectionClosedError',
  'KafkaJSLockTimeout',
  'ThrottlingException',
  'KMSInternalException',
  'ServiceUnavailableException',
  'DependencyTimeoutException',
  'TimeoutError',
]);

/**
 * Classifies an error for retry-or-dead-letter. `isTransientDependencyError` lets the caller add
 * its own knowledge (the database's error codes live in the database library).
 */
export function classifyError(
  error: unknown,
  isTransientDependencyError: (e: unknown) => boolean,
): ErrorClass {
  if (error instanceof PermanentError) return 'permanent';
  if (error instanceof TransientError) return 'transient';
  if (isTransientDependencyError(error)) return 'transient';
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && TRANSIENT_NAMES.has(name)) return 'transient';
  if ((error as { retriable?: unknown } | null)?.retriable === true) return 'transient';
  return 'permanent';
}

export function errorCode(error: unknown): string {
  if (error instanceof PermanentError) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? `handler_${name}` : 'handler_error';
}
