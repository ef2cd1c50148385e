import http from 'node:http';
import https from 'node:https';

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

// Kept-alive connections: a fresh TCP connection (and fetch's stream machinery) per call costs
// more CPU than the work behind most internal calls.
const AGENTS = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 128 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 128 }),
};

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
  const url = new URL(path, baseUrl);
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const send = () =>
    request(url, payload, timeoutMs, {
      'content-type': 'application/json',
      'content-length': String(payload.length),
      authorization: `Bearer ${token}`,
      ...headers,
    });
  let answer: { status: number; text: string };
  try {
    answer = await send();
  } catch (error) {
    // A kept-alive connection the server closed while idle fails before the request reached it:
    // that one is safe to send again, on a fresh connection.
    if (!(error instanceof StaleConnectionError)) throw new InternalCallError(url.host, error);
    try {
      answer = await send();
    } catch (retryError) {
      throw new InternalCallError(url.host, retryError);
    }
  }
  let parsed: unknown = undefined;
  try {
    parsed = answer.text ? JSON.parse(answer.text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: answer.status, body: parsed as T };
}

class StaleConnectionError extends Error {}

function request(
  url: URL,
  payload: Buffer,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  return new Promise((resolve, reject) => {
    const req = (protocol === 'https:' ? https : http).request(
      url,
      { method: 'POST', agent: AGENTS[protocol], headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    const timer = setTimeout(() => {
      const error = new Error(`no answer within ${timeoutMs} ms`);
      error.name = 'TimeoutError';
      req.destroy(error);
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        req.reusedSocket && error.code === 'ECONNRESET' ? new StaleConnectionError(error.message) : error,
      );
    });
    req.end(payload);
  });
}
