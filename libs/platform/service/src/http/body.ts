import { describeIssues } from '@veil/contracts';
import type { z } from 'zod';

import { ApiError } from './api-error';

/** Validates a request body against a schema: 400 with field paths and issue codes, never values. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw ApiError.badRequest('request body does not match the schema', {
      fields: describeIssues(result.error, { echoKeys: true }).map((line) => {
        const [path, issue] = line.split(': ');
        return { path, issue };
      }),
    });
  }
  return result.data;
}
