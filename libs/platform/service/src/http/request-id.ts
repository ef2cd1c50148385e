import { randomUUID } from 'node:crypto';

import type { NextFunction, Request, Response } from 'express';

export const REQUEST_ID_HEADER = 'Request-Id';
const ACCEPTED = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Every request gets an id (the caller's if well-formed), echoed in `Request-Id` and in errors. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header(REQUEST_ID_HEADER);
  const id = incoming && ACCEPTED.test(incoming) ? incoming : `req_${randomUUID()}`;
  (req as Request & { requestId: string }).requestId = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  next();
}

export function requestIdOf(req: Request): string {
  return (req as Request & { requestId?: string }).requestId ?? 'unknown';
}
