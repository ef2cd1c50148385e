import {
  applyDecorators,
  Delete,
  Get,
  HttpCode,
  Post,
  Put,
  SetMetadata,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiKeyGuard, RequireScopes } from '@veil/platform/auth';
import { describeIssues, describeUnsafeText } from '@veil/contracts';
import { ApiError } from '@veil/platform/service';
import type { Request } from 'express';
import type { z } from 'zod';

import { IdempotencyInterceptor } from './idempotency.interceptor';
import { type ApiRoute, nestPath } from './routes';

export const ROUTE_DEFINITION = Symbol('veil:route');

const METHODS = { get: Get, post: Post, put: Put, delete: Delete } as const;

/**
 * Binds a handler to its definition in ROUTES: method and path, success status, scopes, API-key
 * authentication, per-key rate limit and (for POST/DELETE) Idempotency-Key handling.
 */
export function Endpoint(route: ApiRoute): MethodDecorator {
  return applyDecorators(
    METHODS[route.method](nestPath(route)),
    HttpCode(route.success.status),
    SetMetadata(ROUTE_DEFINITION, route),
    UseGuards(ApiKeyGuard),
    RequireScopes(...route.scopes),
    ...(route.idempotent ? [UseInterceptors(IdempotencyInterceptor)] : []),
  );
}

/**
 * Validates path, query and body against the route's schemas, and every string in them (keys too)
 * against what PostgreSQL stores faithfully: 400 with field paths and issue codes, never values.
 */
export function input<R extends ApiRoute>(
  route: R,
  req: Request,
): {
  params: R['params'] extends z.ZodType ? z.infer<R['params']> : Record<string, never>;
  query: R['query'] extends z.ZodType ? z.infer<R['query']> : Record<string, never>;
  body: R['body'] extends z.ZodType ? z.infer<R['body']> : undefined;
} {
  const fields: { path: string; issue: string }[] = [];
  const check = (schema: z.ZodType | undefined, value: unknown, where: string): unknown => {
    // a body the route takes none of is ignored, so only what is read is checked
    const read = schema !== undefined || where !== 'body';
    for (const line of read ? describeUnsafeText(value) : []) {
      const [path, issue] = line.split(': ');
      fields.push({ path: `${where}.${path}`, issue: issue ?? 'invalid' });
    }
    if (!schema) {
      if (where === 'query' && value && Object.keys(value).length > 0)
        fields.push({ path: 'query', issue: 'unrecognized_keys' });
      return where === 'body' ? undefined : {};
    }
    const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
    if (result.success) return result.data;
    for (const line of describeIssues(result.error, { echoKeys: true })) {
      const [path, issue] = line.split(': ');
      fields.push({ path: `${where}.${path}`, issue: issue ?? 'invalid' });
    }
    return undefined;
  };
  const params = check(route.params, req.params, 'path');
  const query = check(route.query, req.query, 'query');
  const body = check(route.body, req.body, 'body');
  if (fields.length > 0) throw ApiError.badRequest('the request does not match the API', { fields });
  return { params, query, body } as never;
}
