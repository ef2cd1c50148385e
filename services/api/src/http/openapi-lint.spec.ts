import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

const REPO = join(__dirname, '../../../..');
const SPECTRAL = join(dirname(require.resolve('@stoplight/spectral-cli/package.json')), 'dist/index.js');

interface Finding {
  code: string;
  severity: number;
  path: string[];
  message: string;
}

/**
 * The committed document (openapi.spec.ts keeps it equal to the generated one) linted with Spectral's
 * OpenAPI rules and the OWASP API Security ruleset, as .spectral.yaml configures them.
 */
describe('docs/openapi.json under Spectral (spectral:oas + OWASP API Security)', () => {
  it('has no errors', () => {
    const run = spawnSync(
      process.execPath,
      [SPECTRAL, 'lint', 'docs/openapi.json', '--ruleset', '.spectral.yaml', '--format', 'json', '--quiet'],
      { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
    );
    expect(run.error).toBeUndefined();
    const findings = JSON.parse(run.stdout) as Finding[];
    const errors = findings
      .filter((f) => f.severity === 0)
      .map((f) => `${f.code} at ${f.path.join('.')}: ${f.message}`);
    expect(errors).toEqual([]);
  }, 120_000);
});
