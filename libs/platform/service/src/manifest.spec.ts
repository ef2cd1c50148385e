import { defineInternalApi } from '@veil/contracts';
import { z } from 'zod';

import { checkServiceCatalog, deriveServiceEnvironment, localSecret, type ServiceManifest } from './manifest';

const op = (callers: string[]) => ({
  path: '/internal/v1/op',
  description: 'an operation',
  request: z.strictObject({}),
  response: z.strictObject({}),
  callers,
});
const StoreApi = defineInternalApi({
  service: 'store',
  description: 'two callers',
  operations: { put: op(['writer']), get: op(['reader']) },
});
const LedgerApi = defineInternalApi({
  service: 'ledger',
  description: 'one caller',
  operations: { read: op(['reader']) },
});

const store: ServiceManifest = {
  name: 'store',
  owns: 'a test service',
  schema: 'store',
  port: 4000,
  needsKms: true,
  serves: [{ api: StoreApi, callerTokens: 'STORE_TOKEN_{CALLER}', token: 'STORE_TOKEN', url: 'STORE_URL' }],
  sharedSecrets: [{ name: 'SIGNING_KEY', kind: 'key' }],
};
const ledger: ServiceManifest = {
  name: 'ledger',
  owns: 'a test service',
  schema: 'ledger',
  port: 4001,
  needsKms: false,
  serves: [{ api: LedgerApi, callerTokens: 'LEDGER_TOKEN', token: 'LEDGER_TOKEN', url: 'LEDGER_URL' }],
  settings: ['LEDGER_KEY_ALIAS'],
};
const writer: ServiceManifest = {
  name: 'writer',
  owns: 'a test service',
  schema: 'writer',
  port: 4002,
  needsKms: false,
  calls: [StoreApi],
  secrets: [{ name: 'WRITER_INTAKE_TOKEN', kind: 'token' }],
};
const reader: ServiceManifest = {
  name: 'reader',
  owns: 'a test service',
  schema: 'reader',
  port: 4003,
  needsKms: false,
  calls: [StoreApi, LedgerApi],
  sharedSecrets: [{ name: 'SIGNING_KEY', kind: 'key' }],
};
const catalog = [store, ledger, writer, reader];
const infra = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: 'postgres://admin:pw@127.0.0.1:5432/veil',
  AWS_REGION: 'eu-west-1',
  VEIL_MODE: 'local',
};
const env = (service: ServiceManifest, extra: NodeJS.ProcessEnv = {}) =>
  deriveServiceEnvironment(service, catalog, { ...infra, ...extra });

describe('service manifests', () => {
  it('give the server one credential per caller its contract names, and each caller its own', () => {
    expect(env(store)).toMatchObject({
      STORE_TOKEN_READER: 'veil-local-store-token-reader',
      STORE_TOKEN_WRITER: 'veil-local-store-token-writer',
    });
    expect(env(writer)).toMatchObject({
      STORE_TOKEN: 'veil-local-store-token-writer',
      STORE_URL: 'http://127.0.0.1:4000',
    });
    expect(env(reader)).toMatchObject({
      STORE_TOKEN: 'veil-local-store-token-reader',
      STORE_URL: 'http://127.0.0.1:4000',
      LEDGER_TOKEN: 'veil-local-ledger-token',
      LEDGER_URL: 'http://127.0.0.1:4001',
    });
    expect(env(ledger).LEDGER_TOKEN).toBe('veil-local-ledger-token');
  });

  it('take credentials, URLs and settings from the infrastructure when it sets them', () => {
    const set = {
      STORE_TOKEN_READER: 'r'.repeat(16),
      STORE_URL: 'https://store.internal',
      LEDGER_KEY_ALIAS: 'alias/x',
    };
    expect(env(reader, set)).toMatchObject({
      STORE_TOKEN: 'r'.repeat(16),
      STORE_URL: 'https://store.internal',
    });
    expect(env(store, set).STORE_TOKEN_READER).toBe('r'.repeat(16));
    expect(env(ledger, set).LEDGER_KEY_ALIAS).toBe('alias/x');
    expect(env(store, set).LEDGER_KEY_ALIAS).toBeUndefined();
  });

  it('derive well-known local secrets from their names, and none outside local mode', () => {
    expect(env(writer).WRITER_INTAKE_TOKEN).toBe('veil-local-writer-intake-token');
    expect(localSecret({ name: 'SIGNING_KEY', kind: 'key' })).toBe(
      Buffer.from('veil-local-signing-key-for-the-local-stack').toString('base64'),
    );
    expect(env(reader).SIGNING_KEY).toBe(env(store).SIGNING_KEY);
    const production = env(reader, { VEIL_MODE: undefined, VEIL_DB_PASSWORD_READER: 'pw' });
    expect(production.STORE_TOKEN).toBeUndefined();
    expect(production.SIGNING_KEY).toBeUndefined();
    expect(production.STORE_URL).toBe('http://127.0.0.1:4000');
  });

  it('give KMS settings only to a service that uses KMS', () => {
    const extra = { KMS_ENDPOINT: 'http://127.0.0.1:4599', AWS_ACCESS_KEY_ID: 'id' };
    expect(env(store, extra)).toMatchObject({ AWS_REGION: 'eu-west-1', ...extra });
    expect(env(writer, extra).KMS_ENDPOINT).toBeUndefined();
  });

  it('are checked against the contracts as a whole', () => {
    expect(checkServiceCatalog(catalog)).toBe(catalog);
    const problems = (services: ServiceManifest[]) => {
      try {
        checkServiceCatalog(services);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(problems([store, ledger, writer, { ...reader, calls: [StoreApi] }])).toContain(
      'ledger: its contract names callers reader, manifests call it from nowhere',
    );
    expect(problems([...catalog, { ...writer, name: 'other', schema: 'other', port: 4009 }])).toContain(
      'store: its contract names callers reader, writer, manifests call it from other, reader, writer',
    );
    expect(
      problems([
        { ...store, serves: [{ ...store.serves![0]!, callerTokens: 'STORE_TOKEN' }] },
        ledger,
        writer,
        reader,
      ]),
    ).toContain('STORE_TOKEN names no {CALLER}');
    expect(
      problems([
        store,
        ledger,
        writer,
        reader,
        { ...writer, name: 'w2', schema: 'w2', port: 4000, calls: [] },
      ]),
    ).toContain('port 4000 is not unique');
    expect(problems([store, writer, reader])).toContain('reader calls ledger: nobody serves it');
    expect(problems([{ ...store, sharedSecrets: [] }, ledger, writer, reader])).toContain(
      'SIGNING_KEY: declared shared, held by reader only',
    );
  });

  it('refuse a call the contract does not allow', () => {
    const intruder: ServiceManifest = {
      name: 'intruder',
      owns: 'a test service',
      schema: 'intruder',
      port: 4010,
      needsKms: false,
      calls: [LedgerApi],
    };
    expect(() => deriveServiceEnvironment(intruder, [...catalog, intruder], infra)).toThrow(
      'intruder calls ledger, whose contract does not name it as a caller',
    );
  });
});
