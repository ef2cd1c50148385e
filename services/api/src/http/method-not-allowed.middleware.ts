import { Injectable, type NestMiddleware } from '@nestjs/common';
import { ApiError } from '@veil/platform/service';
import type { NextFunction, Request, Response } from 'express';

import { type ApiRoute, ROUTES } from './routes';

interface PathMethods {
  pattern: RegExp;
  methods: string[];
}

/** Each documented path as Express matches it (any case, optional trailing slash) with its methods. */
const PATHS: PathMethods[] = (() => {
  const byPath = new Map<string, string[]>();
  for (const route of Object.values(ROUTES) as ApiRoute[])
    byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method.toUpperCase()]);
  return [...byPath].map(([path, methods]) => ({
    pattern: new RegExp(
      `^${path
        .split(/\{\w+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]+')}/?$`,
      'i',
    ),
    methods,
  }));
})();

/** The methods the path has, or undefined for a path the API does not have. */
export function allowedMethods(path: string): string[] | undefined {
  return PATHS.find((p) => p.pattern.test(path))?.methods;
}

/**
 * A method the path does not have answers 405 with `Allow`, before authentication (the methods
 * are public in the OpenAPI document). HEAD and OPTIONS too: HEAD would run a GET handler, reveal
 * and audit included, only to drop the body. Unknown paths go on to the 404.
 */
@Injectable()
export class MethodNotAllowedMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const methods = allowedMethods(req.originalUrl.split('?')[0]!);
    if (methods && !methods.includes(req.method)) {
      res.setHeader('Allow', methods.join(', '));
      return next(
        new ApiError(
          405,
          'method_not_allowed',
          `${req.method} is not allowed here; use ${methods.join(', ')}`,
        ),
      );
    }
    next();
  }
}
