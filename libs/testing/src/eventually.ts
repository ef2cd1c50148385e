export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Shown when the deadline passes, before the last failure. */
  description?: string;
}

/**
 * Polls `probe` until it stops throwing (or resolves truthy-or-undefined) or the deadline passes,
 * then rethrows the last failure. Tests wait on outcomes, never on sleeps.
 */
export async function expectEventually<T>(
  probe: () => Promise<T> | T,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const interval = options.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const prefix = options.description ? `${options.description}: ` : '';
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      const error = new Error(`${prefix}not satisfied within ${options.timeoutMs ?? 30_000} ms: ${reason}`);
      if (lastError instanceof Error && lastError.stack) error.stack = `${error.message}\n${lastError.stack}`;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
