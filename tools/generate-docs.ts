/**
 * Regenerates the documents derived from code: docs/events.md and docs/internal-apis.md (contracts),
 * docs/openapi.json (customer API) and the README's service table (service manifests).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { openApiDocument } from '@veil/api/admin';
import { renderEventsCatalog, renderInternalApis } from '@veil/contracts';
import { REPO_ROOT } from '@veil/platform/config';
import { withServiceTable } from '@veil/service-catalog';

writeFileSync(join(REPO_ROOT, 'docs', 'events.md'), renderEventsCatalog());
writeFileSync(join(REPO_ROOT, 'docs', 'internal-apis.md'), renderInternalApis());
writeFileSync(join(REPO_ROOT, 'docs', 'openapi.json'), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
const readme = join(REPO_ROOT, 'README.md');
writeFileSync(readme, withServiceTable(readFileSync(readme, 'utf8')));
process.stdout.write(
  'docs/events.md, docs/internal-apis.md, docs/openapi.json and the service table of README.md written\n',
);
