/** Regenerates docs/events.md from the contracts registry. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { renderEventsCatalog } from '@veil/contracts';
import { REPO_ROOT } from '@veil/platform/config';

writeFileSync(join(REPO_ROOT, 'docs', 'events.md'), renderEventsCatalog());
process.stdout.write('docs/events.md written\n');
