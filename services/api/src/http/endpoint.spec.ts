import { ApiError } from '@veil/platform/service';
import type { Request } from 'express';

import { input } from './endpoint';
import { ROUTES } from './routes';

function request(parts: { params?: unknown; query?: unknown; body?: unknown }): Request {
  return { params: {}, query: {}, ...parts } as unknown as Request;
}

function rejection(run: () => unknown): { status: number; fields: unknown } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError)
      return { status: error.status, fields: (error.details as { fields: unknown }).fields };
    throw error;
  }
  throw new Error('accepted');
}

describe('input(): text PostgreSQL cannot store faithfully', () => {
  const key = { name: 'ci', scopes: ['inquiry:read'] };

  it.each([
    ['U+0000', 'a\u0000b'],
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00'],
  ])('answers 400 naming the body field for %s', (_, name) => {
    expect(rejection(() => input(ROUTES.createApiKey, request({ body: { ...key, name } })))).toEqual({
      status: 400,
      fields: [{ path: 'body.name', issue: 'invalid_characters' }],
    });
  });

  it('names query and path fields, array items and keys too', () => {
    expect(
      rejection(() => input(ROUTES.listInquiries, request({ query: { referenceId: 'ref\u0000' } }))),
    ).toEqual({ status: 400, fields: [{ path: 'query.referenceId', issue: 'invalid_characters' }] });
    expect(
      rejection(() => input(ROUTES.getInquiry, request({ params: { inquiryId: 'inq\u0000' } }))),
    ).toMatchObject({
      fields: expect.arrayContaining([{ path: 'path.inquiryId', issue: 'invalid_characters' }]),
    });
    expect(
      rejection(() =>
        input(ROUTES.putEnabledAttributes, request({ body: { attributes: ['nameFirst', 'x\ud83d'] } })),
      ),
    ).toMatchObject({
      fields: expect.arrayContaining([{ path: 'body.attributes.1', issue: 'invalid_characters' }]),
    });
    expect(
      rejection(() => input(ROUTES.createApiKey, request({ body: { ...key, ['\u0000']: 1 } }))),
    ).toMatchObject({
      fields: expect.arrayContaining([{ path: 'body.<key>', issue: 'invalid_characters' }]),
    });
  });

  it('accepts any other text, astral characters included', () => {
    const { body } = input(ROUTES.createApiKey, request({ body: { ...key, name: 'Ünïcode 😀 𝔘 \t' } }));
    expect(body.name).toBe('Ünïcode 😀 𝔘 \t');
  });
});
