import { z } from 'zod';

import { ApiError } from './api-error';
import { parseBody } from './body';
import { MAX_ERROR_MESSAGE_CHARS, toErrorResponse } from './error-filter';

const Body = z.strictObject({ name: z.string().max(64), tags: z.array(z.string()).max(4) });

function fieldsOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, details: error.details };
    throw error;
  }
  throw new Error('accepted');
}

describe('parseBody', () => {
  it('refuses U+0000 and unpaired surrogates in any string, naming the field, never the value', () => {
    expect(fieldsOf(() => parseBody(Body, { name: 'a\u0000', tags: ['ok', '\ud800'] }))).toEqual({
      status: 400,
      details: {
        fields: [
          { path: 'name', issue: 'invalid_characters' },
          { path: 'tags.1', issue: 'invalid_characters' },
        ],
      },
    });
  });

  it('reports schema issues and text issues together', () => {
    expect(fieldsOf(() => parseBody(Body, { name: 'x'.repeat(65), tags: ['\u0000'] }))).toMatchObject({
      details: {
        fields: [
          { path: 'name', issue: 'too_big' },
          { path: 'tags.0', issue: 'invalid_characters' },
        ],
      },
    });
  });

  it('returns what the schema accepts, astral characters included', () => {
    expect(parseBody(Body, { name: 'Ada 😀', tags: [] })).toEqual({ name: 'Ada 😀', tags: [] });
  });
});

describe('toErrorResponse', () => {
  it('caps messages at the documented length', () => {
    const { body } = toErrorResponse(ApiError.badRequest('m'.repeat(5_000)), 'req_1');
    expect(body.message).toHaveLength(MAX_ERROR_MESSAGE_CHARS);
  });
});
