import { describeIssues, describeUnsafeText } from '@veil/contracts';
import type { z } from 'zod';

import { ApiError } from './api-error';

/**
 * Validates a request body against a schema, and every string in it against what PostgreSQL stores
 * faithfully (no U+0000, no unpaired surrogate): 400 with field paths and issue codes, never values.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  const unsafe = describeUnsafeText(body);
  if (!result.success || unsafe.length > 0) {
    const issues = result.success ? [] : describeIssues(result.error, { echoKeys: true });
    throw ApiError.badRequest('request body does not match the schema', {
      fields: [...issues, ...unsafe].map((line) => {
        const [path, issue] = line.split(': ');
        return { path, issue };
      }),
    });
  }
  return result.data;
}
