/** An authentication or authorization failure; `expose` lets the HTTP error filter show it as is. */
export class AuthError extends Error {
  readonly expose = true;
  constructor(
    readonly status: 401 | 403 | 429,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
