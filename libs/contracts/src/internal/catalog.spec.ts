import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { INTERNAL_APIS, renderInternalApis } from './catalog';

describe('internal APIs', () => {
  it('give every operation its own internal path', () => {
    const paths = INTERNAL_APIS.flatMap((api) => Object.values(api.operations).map((op) => op.path));
    expect(new Set(paths).size).toBe(paths.length);
    for (const path of paths) expect(path).toMatch(/^\/internal\/v1\/[a-z0-9/-]+$/);
  });

  it('matches the committed docs/internal-apis.md (run `npm run docs` after changing an internal API)', () => {
    const committed = readFileSync(join(__dirname, '../../../../docs/internal-apis.md'), 'utf8');
    expect(committed).toBe(renderInternalApis());
  });
});
