export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Attempts within one round before the partition pauses for `cooldownMs`. */
  attemptsPerRound: number;
  cooldownMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 200,
  maxMs: 5_000,
  attemptsPerRound: 5,
  cooldownMs: 5_000,
};

/** Exponential backoff with jitter: uniform in [initial/2, min(max, initial * 2^attempt)], so retries of many consumers spread out. */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt));
  return Math.round(policy.initialMs / 2 + random() * (ceiling - policy.initialMs / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
