/** A call between Veil services failed before an answer arrived (refused, reset, timed out). */
export class InternalCallError extends Error {
  constructor(
    readonly target: string,
    override readonly cause: unknown,
  ) {
    super(`${target} unreachable: ${(cause as Error | undefined)?.name ?? 'error'}`);
    this.name = 'InternalCallError';
  }
}

export interface InternalResponse<T> {
  status: number;
  body: T;
}

/**
 * POSTs JSON to another Veil service's internal API with its bearer token and a deadline. Answers
 * of any status come back to the caller, who decides what they mean (retry, dead-letter, 503).
 */
export async function postInternal<T>(
  baseUrl: string,
  path: string,
  token: string,
  body: unknown,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<InternalResponse<T>> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new InternalCallError(new URL(path, baseUrl).host, error);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed as T };
}
