/**
 * How the consumer runtime treats a failure:
 * - permanent: retrying cannot help (bad input, a rule the event breaks). Dead-lettered on the
 *   first attempt, with the code in the record's headers.
 * - transient: a dependency is down or busy (database, KMS, broker). Retried with backoff, the
 *   partition pauses between rounds, and the record is never dead-lettered.
 * - unknown: anything else (a bug, an unexpected dependency error). Retried for one round; then the
 *   chunk is re-applied event by event and a single failing event is dead-lettered — unless several
 *   in a row fail that way, which looks systemic (a bad deploy), and the partition pauses instead.
 */
export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
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

export type ErrorClass = 'permanent' | 'transient' | 'unknown';

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

/** Classifies an error; `isTransientDependencyError` adds knowledge kept elsewhere (database codes). */
export function classifyError(
  error: unknown,
  isTransientDependencyError: (e: unknown) => boolean,
): ErrorClass {
  if (error instanceof PermanentError) return 'permanent';
  if (error instanceof TransientError) return 'transient';
  if (isTransientDependencyError(error)) return 'transient';
  const e = error as {
    name?: unknown;
    retriable?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  } | null;
  if (typeof e?.name === 'string' && TRANSIENT_NAMES.has(e.name)) return 'transient';
  if (e?.retriable === true || (e?.$retryable !== undefined && e.$retryable !== null)) return 'transient';
  if ((e?.$metadata?.httpStatusCode ?? 0) >= 500) return 'transient';
  return 'unknown';
}

/** A short code for headers and metrics; never the message, which may quote data. */
export function errorCode(error: unknown): string {
  if (error instanceof PermanentError) return error.code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name) ? `handler_${name}` : 'handler_error';
}

/** Name and code of an error, for logs: free-text messages of foreign errors may quote data. */
export function describeError(error: unknown): { error: string; code?: string } {
  const e = error as { name?: unknown; code?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  return typeof e?.code === 'string' || typeof e?.code === 'number'
    ? { error: name, code: String(e.code) }
    : { error: name };
}
