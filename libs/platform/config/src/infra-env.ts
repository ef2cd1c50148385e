import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (this file is libs/platform/config/src/infra-env.ts). */
export const REPO_ROOT = resolve(__dirname, '../../../..');

/**
 * Loads the settings `tools/infra.sh up` wrote into $VEIL_HOME/env, without overriding anything
 * already in the environment (that is how tests run against external Kafka/PostgreSQL/KMS).
 */
export function loadInfraEnv(env: NodeJS.ProcessEnv = process.env): void {
  const home = env.VEIL_HOME ?? join(REPO_ROOT, '.veil');
  const file = join(home, 'env');
  if (!existsSync(file)) {
    throw new Error(
      `no infrastructure settings at ${file}: run "bash tools/infra.sh up" (npm test does it for you)`,
    );
  }
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match && env[match[1]!] === undefined) env[match[1]!] = match[2];
  }
}
