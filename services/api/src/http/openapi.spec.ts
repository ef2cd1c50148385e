import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { openApiDocument } from './openapi';
import { ROUTES } from './routes';

describe('OpenAPI document', () => {
  const document = openApiDocument() as {
    openapi: string;
    paths: Record<string, Record<string, { 'x-veil-scopes': string[] }>>;
  };

  it('is OpenAPI 3.1 and describes every route with its scopes', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const route of Object.values(ROUTES)) {
      expect(document.paths[route.path]?.[route.method]?.['x-veil-scopes']).toEqual(route.scopes);
    }
  });

  it('matches the committed docs/openapi.json (run `npm run docs` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '../../../../docs/openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
