import { z } from 'zod';

import { baseConfigSchema, ConfigError, parseConfig } from './config';

const valid = {
  KAFKA_BROKERS: '127.0.0.1:9092, kafka-2:9092',
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
});
