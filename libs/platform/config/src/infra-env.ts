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
  for (const [name, value] of Object.entries(parseEnvFile(readFileSync(file, 'utf8'))))
    if (env[name] === undefined) env[name] = value;
}

/** `NAME=value` lines (comments and anything else ignored), as `tools/infra.sh` writes them. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) out[match[1]!] = match[2]!;
  }
  return out;
}
