import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { openApiDocument } from './openapi';
import { IDEMPOTENCY_KEY_PATTERN, ROUTES } from './routes';

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

  it('promises no string the server refuses for U+0000, and bounds every string and array', () => {
    const problems: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((child, i) => visit(child, `${path}.${i}`));
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      if (schema.type === 'string' && !('enum' in schema || 'const' in schema)) {
        if (typeof schema.maxLength !== 'number') problems.push(`${path}: no maxLength`);
        const pattern = schema.pattern;
        if (typeof pattern !== 'string' || new RegExp(pattern, 'u').test('a\u0000'))
          problems.push(`${path}: a pattern that admits U+0000`);
      }
      if (schema.type === 'array' && typeof schema.maxItems !== 'number')
        problems.push(`${path}: no maxItems`);
      for (const [key, child] of Object.entries(schema)) visit(child, `${path}.${key}`);
    };
    visit(document, '$');
    expect(problems).toEqual([]);
  });

  it('describes Idempotency-Key as the server checks it', () => {
    const header = (
      document.paths['/v1/api-keys']!.post as unknown as { parameters: { name: string; schema: object }[] }
    ).parameters.find((p) => p.name === 'Idempotency-Key');
    expect(header?.schema).toEqual({
      type: 'string',
      minLength: 1,
      maxLength: 255,
      pattern: IDEMPOTENCY_KEY_PATTERN,
    });
    const pattern = new RegExp(IDEMPOTENCY_KEY_PATTERN);
    expect(['a', '~'.repeat(255), 'idem-2026-11-25T10:00:00Z'].every((k) => pattern.test(k))).toBe(true);
    expect(['', 'a b', 'é', 'x'.repeat(256), 'a\tb'].some((k) => pattern.test(k))).toBe(false);
  });

  it('matches the committed docs/openapi.json (run `npm run docs` after changing the API)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '../../../../docs/openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
