import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { isTransientDatabaseError } from '@veil/platform/database';
import type { NextFunction, Request, Response } from 'express';

import { ApiError, type ErrorBody } from './api-error';
import { requestIdOf } from './request-id';

const CODES: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
};

/** Messages are short by design; the cap makes it a promise the API can document. */
export const MAX_ERROR_MESSAGE_CHARS = 1_024;

/** Maps any error to `{ code, message, requestId, details }`. Unknown errors are 500 with no internals. */
export function toErrorResponse(error: unknown, requestId: string): { status: number; body: ErrorBody } {
  const answer = errorResponse(error, requestId);
  if (answer.body.message.length > MAX_ERROR_MESSAGE_CHARS)
    answer.body.message = `${answer.body.message.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…`;
  return answer;
}

function errorResponse(error: unknown, requestId: string): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      body: {
        code: error.code,
        message: error.message,
        requestId,
        ...(error.details !== undefined ? { details: error.details } : {}),
      },
    };
  }
  // Errors from other libraries that are meant for the client (e.g. authentication) say so.
  const exposed = error as {
    expose?: unknown;
    status?: unknown;
    code?: unknown;
    message?: unknown;
    details?: unknown;
  } | null;
  if (exposed?.expose === true && typeof exposed.status === 'number' && typeof exposed.code === 'string') {
    return {
      status: exposed.status,
      body: {
        code: exposed.code,
        message: String(exposed.message),
        requestId,
        ...(exposed.details !== undefined ? { details: exposed.details } : {}),
      },
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return {
      status,
      body: {
        code: CODES[status] ?? 'http_error',
        message: status === 404 ? 'not found' : error.message,
        requestId,
      },
    };
  }
  // body-parser errors: bad JSON, too large, wrong charset
  const type = (error as { type?: unknown }).type;
  const status = (error as { status?: unknown }).status;
  if (typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500) {
    const message =
      type === 'entity.too.large'
        ? 'request body too large'
        : type === 'entity.parse.failed'
          ? 'request body is not valid JSON'
          : 'unreadable request body';
    return { status, body: { code: CODES[status] ?? 'invalid_request', message, requestId } };
  }
  // A dependency (database, KMS) down or busy: the caller should retry later.
  if ((error as { retriable?: unknown } | null)?.retriable === true || isTransientDatabaseError(error)) {
    return {
      status: 503,
      body: {
        code: 'dependency_unavailable',
        message: 'a dependency is unavailable; retry later',
        requestId,
      },
    };
  }
  return { status: 500, body: { code: 'internal_error', message: 'internal error', requestId } };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = toErrorResponse(error, requestIdOf(req));
    if (status >= 500)
      this.logger.error({
        msg: 'request failed',
        requestId: body.requestId,
        route: req.route?.path,
        err: error,
      });
    res.status(status).json(body);
  }
}

/** Express error middleware for what fails before Nest's pipeline (the body parser). */
export function expressErrorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(error);
  const { status, body } = toErrorResponse(error, requestIdOf(req));
  res.status(status).json(body);
}
