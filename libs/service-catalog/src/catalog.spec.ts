import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { REPO_ROOT } from '@veil/platform/config';

import { SERVICE_CATALOG, serviceEntry, serviceEnvironment, withServiceTable } from './catalog';

const infra = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://postgres:admin@127.0.0.1:5432/veil',
  AWS_REGION: 'us-east-1',
  KMS_ENDPOINT: 'http://127.0.0.1:4599',
  AWS_ACCESS_KEY_ID: 'local-kms',
  AWS_SECRET_ACCESS_KEY: 'local-kms',
};
const kms = {
  AWS_REGION: 'us-east-1',
  KMS_ENDPOINT: 'http://127.0.0.1:4599',
  AWS_ACCESS_KEY_ID: 'local-kms',
  AWS_SECRET_ACCESS_KEY: 'local-kms',
};

function base(schema: string, port: number) {
  return {
    KAFKA_BROKERS: '127.0.0.1:9092',
    DATABASE_URL: `postgres://veil_${schema}:veil-local-${schema}@127.0.0.1:5432/veil`,
    DATABASE_SCHEMA: schema,
    PORT: String(port),
    MANAGEMENT_PORT: String(port + 6000),
    LOG_LEVEL: 'log',
    VEIL_MODE: 'local',
  };
}

describe('the service catalog', () => {
  it('lists the six services in start order, each on its own port and schema', () => {
    expect(SERVICE_CATALOG.map((s) => [s.name, s.schema, s.port, s.needsKms])).toEqual([
      ['api', 'api', 3000, false],
      ['ingest', 'ingest', 3001, false],
      ['vault', 'vault', 3002, true],
      ['retention', 'retention', 3003, false],
      ['dsar', 'dsar', 3004, false],
      ['audit-log', 'audit_log', 3005, true],
    ]);
  });

  it('gives each service on the local stack its credentials, URLs and secrets, under their names', () => {
    const env = (name: string) => serviceEnvironment(serviceEntry(name), { ...infra, VEIL_MODE: 'local' });
    const grantKey = Buffer.from('veil-local-vault-grant-key-for-the-local-stack').toString('base64');
    expect(env('api')).toEqual({
      ...base('api', 3000),
      VAULT_TOKEN: 'veil-local-vault-token-api',
      VAULT_URL: 'http://127.0.0.1:3002',
      VAULT_GRANT_KEY: grantKey,
      AUDIT_LOG_INTERNAL_TOKEN: 'veil-local-audit-log-internal-token',
      AUDIT_LOG_URL: 'http://127.0.0.1:3005',
      RETENTION_INTERNAL_TOKEN: 'veil-local-retention-internal-token',
      RETENTION_URL: 'http://127.0.0.1:3003',
    });
    expect(env('ingest')).toEqual({
      ...base('ingest', 3001),
      VAULT_TOKEN: 'veil-local-vault-token-ingest',
      VAULT_URL: 'http://127.0.0.1:3002',
      INGEST_INTAKE_TOKEN: 'veil-local-ingest-intake-token',
    });
    expect(env('vault')).toEqual({
      ...base('vault', 3002),
      ...kms,
      VAULT_TOKEN_API: 'veil-local-vault-token-api',
      VAULT_TOKEN_INGEST: 'veil-local-vault-token-ingest',
      VAULT_TOKEN_RETENTION: 'veil-local-vault-token-retention',
      VAULT_GRANT_KEY: grantKey,
    });
    expect(env('retention')).toEqual({
      ...base('retention', 3003),
      RETENTION_INTERNAL_TOKEN: 'veil-local-retention-internal-token',
      VAULT_TOKEN: 'veil-local-vault-token-retention',
      VAULT_URL: 'http://127.0.0.1:3002',
    });
    expect(env('dsar')).toEqual(base('dsar', 3004));
    expect(env('audit-log')).toEqual({
      ...base('audit_log', 3005),
      ...kms,
      AUDIT_LOG_INTERNAL_TOKEN: 'veil-local-audit-log-internal-token',
    });
  });

  it("outside local mode, takes each secret and URL from the infrastructure, a caller's credential under the server's name for it", () => {
    const production = {
      ...infra,
      VEIL_DB_PASSWORD_API: 'pw',
      VEIL_DB_PASSWORD_INGEST: 'pw',
      VEIL_DB_PASSWORD_AUDIT_LOG: 'pw',
      VAULT_TOKEN_API: 'token-of-the-api',
      VAULT_TOKEN_INGEST: 'token-of-ingest',
      VAULT_URL: 'https://vault.internal',
      AUDIT_LOG_INTERNAL_TOKEN: 'token-for-the-audit-log',
      AUDIT_SIGNING_KEY_ALIAS: 'alias/signing',
    };
    const env = (name: string) => serviceEnvironment(serviceEntry(name), production);
    expect(env('api')).toMatchObject({
      VAULT_TOKEN: 'token-of-the-api',
      VAULT_URL: 'https://vault.internal',
      AUDIT_LOG_INTERNAL_TOKEN: 'token-for-the-audit-log',
      AUDIT_LOG_URL: 'http://127.0.0.1:3005',
    });
    expect(env('api').VAULT_GRANT_KEY).toBeUndefined();
    expect(env('ingest')).toMatchObject({
      VAULT_TOKEN: 'token-of-ingest',
      VAULT_URL: 'https://vault.internal',
    });
    expect(env('ingest').INGEST_INTAKE_TOKEN).toBeUndefined();
    expect(env('audit-log')).toMatchObject({
      AUDIT_LOG_INTERNAL_TOKEN: 'token-for-the-audit-log',
      AUDIT_SIGNING_KEY_ALIAS: 'alias/signing',
    });
  });

  it('takes overrides last', () => {
    expect(
      serviceEnvironment(serviceEntry('vault'), { ...infra, VEIL_MODE: 'local' }, { PORT: '0' }).PORT,
    ).toBe('0');
  });
});

describe("the README's service table", () => {
  it('is the rendering of the manifests (run `npm run docs` after changing one)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    expect(withServiceTable(readme)).toBe(readme);
    const renamed = SERVICE_CATALOG.map((s) => (s.name === 'vault' ? { ...s, owns: 'something else' } : s));
    expect(withServiceTable(readme, renamed)).not.toBe(readme);
  });
});
