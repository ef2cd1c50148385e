/**
 * Regenerates the documents derived from code: docs/events.md and docs/internal-apis.md (contracts)
 * and docs/openapi.json (customer API).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { openApiDocument } from '@veil/api/admin';
import { renderEventsCatalog, renderInternalApis } from '@veil/contracts';
import { REPO_ROOT } from '@veil/platform/config';

writeFileSync(join(REPO_ROOT, 'docs', 'events.md'), renderEventsCatalog());
writeFileSync(join(REPO_ROOT, 'docs', 'internal-apis.md'), renderInternalApis());
writeFileSync(join(REPO_ROOT, 'docs', 'openapi.json'), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
process.stdout.write('docs/events.md, docs/internal-apis.md and docs/openapi.json written\n');
