import { z } from 'zod';

import { baseConfigSchema, ConfigError, parseConfig, serviceToken } from './config';

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092, kafka-2:9092',
  KAFKA_SASL_USERNAME: 'veil-ingest',
  KAFKA_SASL_PASSWORD: 'a-password-of-its-own',
  DATABASE_URL: 'postgres://veil_ingest:pw@127.0.0.1:5432/veil',
  DATABASE_SCHEMA: 'ingest',
};

describe('parseConfig', () => {
  it('parses and applies defaults', () => {
    const config = parseConfig(baseConfigSchema, valid);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', 'kafka-2:9092']);
    expect(config.DATABASE_POOL_SIZE).toBe(10);
    expect(config.LOG_LEVEL).toBe('log');
  });

  it('reports one line per bad variable, naming it, without echoing values', () => {
    const schema = baseConfigSchema.extend({ PORT: z.coerce.number().int().min(1) });
    let caught: unknown;
    try {
      parseConfig(schema, {
        KAFKA_BROKERS: 'not a broker',
        DATABASE_URL: 'mysql://secret-password@x',
        PORT: '-1',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toEqual([
      'DATABASE_SCHEMA: required but not set',
      'DATABASE_URL: must be a postgres:// URL',
      'KAFKA_BROKERS: each broker must be host:port',
      'PORT: Too small: expected number to be >=1',
    ]);
    expect(problems.join('\n')).not.toContain('secret-password');
  });

  it('wants SASL credentials unless the broker protocol says otherwise, and takes none by default', () => {
    const { KAFKA_SASL_USERNAME: _u, KAFKA_SASL_PASSWORD: _p, ...withoutCredentials } = valid;
    expect(() => parseConfig(baseConfigSchema, withoutCredentials)).toThrow(
      /KAFKA_SASL_PASSWORD: required with KAFKA_SECURITY_PROTOCOL=sasl_ssl/,
    );
    expect(
      parseConfig(baseConfigSchema, { ...withoutCredentials, KAFKA_SECURITY_PROTOCOL: 'plaintext' }),
    ).toMatchObject({
      KAFKA_SECURITY_PROTOCOL: 'plaintext',
    });
  });

  it('refuses well-known local secrets outside local mode, naming each, and accepts them in local mode', () => {
    const schema = baseConfigSchema.extend({ TOKEN: serviceToken() });
    const local = {
      ...valid,
      DATABASE_URL: 'postgres://veil_ingest:veil-local-ingest@127.0.0.1:5432/veil',
      TOKEN: 'veil-local-some-token',
    };
    let caught: unknown;
    try {
      parseConfig(schema, local);
    } catch (error) {
      caught = error;
    }
    expect((caught as ConfigError).problems.map((p) => p.split(':')[0])).toEqual(['DATABASE_URL', 'TOKEN']);
    expect((caught as ConfigError).message).not.toContain('veil-local-');
    expect(parseConfig(schema, { ...local, VEIL_MODE: 'local' }).TOKEN).toBe('veil-local-some-token');
    expect(
      parseConfig(schema, { ...local, DATABASE_URL: valid.DATABASE_URL, TOKEN: 'x'.repeat(32) }).TOKEN,
    ).toBe('x'.repeat(32));
  });
});
