import { Injectable, type NestMiddleware } from '@nestjs/common';
import { ApiError } from '@veil/platform/service';
import type { NextFunction, Request, Response } from 'express';

import { API_VERSION, SUPPORTED_VERSIONS } from './routes';

/**
 * Dated API versions (path `/v1` for the big picture, `Veil-Version: YYYY-MM-DD` for changes):
 * an unknown version is refused rather than guessed; the answer says which version served it.
 */
@Injectable()
export class VersionMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const asked = req.header('veil-version');
    if (asked !== undefined && !(SUPPORTED_VERSIONS as readonly string[]).includes(asked)) {
      return next(
        new ApiError(
          400,
          'unsupported_version',
          `Veil-Version must be one of ${SUPPORTED_VERSIONS.join(', ')}`,
        ),
      );
    }
    res.setHeader('Veil-Version', asked ?? API_VERSION);
    next();
  }
}
