import { ApiError } from '@veil/platform/service';
import type { Request, Response } from 'express';

import { allowedMethods, MethodNotAllowedMiddleware } from './method-not-allowed.middleware';
import { type ApiRoute, ROUTES } from './routes';

function call(method: string, url: string): { error: unknown; allow: string | undefined } {
  const headers: Record<string, string> = {};
  let error: unknown = 'next() not called';
  new MethodNotAllowedMiddleware().use(
    { method, originalUrl: url } as Request,
    {
      setHeader: (name: string, value: string) => (headers[name.toLowerCase()] = value),
    } as unknown as Response,
    (err?: unknown) => (error = err),
  );
  return { error, allow: headers.allow };
}

describe('405 for methods a path does not have', () => {
  it('knows the methods of every documented path, and no others', () => {
    for (const route of Object.values(ROUTES) as ApiRoute[]) {
      const concrete = route.path.replace(/\{\w+\}/g, 'x_1');
      expect(allowedMethods(concrete)).toContain(route.method.toUpperCase());
      expect(allowedMethods(`${concrete}/`)).toContain(route.method.toUpperCase());
    }
    expect(allowedMethods('/v1/inquiries/inq_1')).toEqual(['GET', 'DELETE']);
    expect(allowedMethods('/v1/api-keys')).toEqual(['GET', 'POST']);
    expect(allowedMethods('/v1/inquiries/inq_1/more')).toBeUndefined();
    expect(allowedMethods('/v1/undocumented')).toBeUndefined();
  });

  it.each([
    ['PATCH', '/v1/inquiries?status=approved', 'GET'],
    ['POST', '/v1/inquiries/inq_1', 'GET, DELETE'],
    ['PUT', '/v1/api-keys', 'GET, POST'],
    ['GET', '/v1/api-keys/key_0000000000000000', 'DELETE'],
    ['HEAD', '/v1/organization', 'GET'],
    ['OPTIONS', '/v1/organization/enabled-attributes', 'GET, PUT'],
  ])('%s %s answers 405 method_not_allowed with Allow: %s', (method, url, allow) => {
    const { error, allow: header } = call(method, url);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 405, code: 'method_not_allowed' });
    expect(header).toBe(allow);
  });

  it('passes documented methods and unknown paths on (to their handler, or to the 404)', () => {
    expect(call('GET', '/v1/inquiries/inq_1')).toEqual({ error: undefined, allow: undefined });
    expect(call('DELETE', '/v1/inquiries/inq_1')).toEqual({ error: undefined, allow: undefined });
    expect(call('PATCH', '/v1/undocumented')).toEqual({ error: undefined, allow: undefined });
  });
});
