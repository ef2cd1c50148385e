/**
 * An error an HTTP client should see: a status, a stable machine-readable code, a message safe
 * to show (never PII, never internals) and optional details (e.g. field paths and issue codes).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static badRequest(message: string, details?: unknown): ApiError {
    return new ApiError(400, 'invalid_request', message, details);
  }
  static unauthorized(message = 'missing or invalid credentials'): ApiError {
    return new ApiError(401, 'unauthorized', message);
  }
  static notFound(message = 'not found'): ApiError {
    return new ApiError(404, 'not_found', message);
  }
  static unavailable(code: string, message: string): ApiError {
    return new ApiError(503, code, message);
  }
}

export interface ErrorBody {
  code: string;
  message: string;
  requestId: string;
  details?: unknown;
}
