import { readFileSync } from 'node:fs';

import type { LoggerService } from '@nestjs/common';
import { Kafka, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';

import { registerCompressionCodecs } from './compression';

/** How a client proves itself to the brokers and checks them. */
export interface KafkaSecurity {
  protocol: 'plaintext' | 'ssl' | 'sasl_ssl';
  mechanism?: 'scram-sha-256' | 'scram-sha-512';
  username?: string;
  password?: string;
  /** PEM file of the CA that signs the brokers' certificates (the system's CAs when unset). */
  caFile?: string;
}

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  logger: LoggerService;
  /** Default: from the environment (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CA_FILE). */
  security?: KafkaSecurity;
  /** Connection and request retries (default 8). */
  retries?: number;
}

/**
 * The security settings in an environment, as tools, tests and benchmarks read them (services
 * validate theirs at boot). Unset protocol means plaintext here: a tool follows what it is given.
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const protocol = (env.KAFKA_SECURITY_PROTOCOL ?? 'plaintext') as KafkaSecurity['protocol'];
  return {
    protocol,
    ...(env.KAFKA_SASL_MECHANISM
      ? { mechanism: env.KAFKA_SASL_MECHANISM as KafkaSecurity['mechanism'] }
      : {}),
    ...(env.KAFKA_SASL_USERNAME ? { username: env.KAFKA_SASL_USERNAME } : {}),
    ...(env.KAFKA_SASL_PASSWORD ? { password: env.KAFKA_SASL_PASSWORD } : {}),
    ...(env.KAFKA_SSL_CA_FILE ? { caFile: env.KAFKA_SSL_CA_FILE } : {}),
  };
}

function connectionOptions(security: KafkaSecurity): {
  ssl?: { ca?: string[]; rejectUnauthorized: true };
  sasl?: SASLOptions;
} {
  if (security.protocol === 'plaintext') return {};
  const ssl = {
    ...(security.caFile ? { ca: [readFileSync(security.caFile, 'utf8')] } : {}),
    rejectUnauthorized: true as const,
  };
  if (security.protocol === 'ssl') return { ssl };
  if (!security.username || !security.password)
    throw new Error('SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  const mechanism = security.mechanism ?? 'scram-sha-512';
  return {
    ssl,
    sasl: { mechanism, username: security.username, password: security.password } as SASLOptions,
  };
}

/** A kafkajs client whose own log lines go through Veil's structured, redacting logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  registerCompressionCodecs();
  const { logger } = options;
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...connectionOptions(options.security ?? kafkaSecurityFromEnv()),
    connectionTimeout: 3_000,
    authenticationTimeout: 10_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: options.retries ?? 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
        // EventPublisher bounds retries on purpose and replaces the producer after a failed send.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        const line = { msg: message, kafkajs: namespace, ...fields };
        if (level === logLevel.ERROR) logger.error(line, 'kafkajs');
        else if (level === logLevel.WARN) logger.warn(line, 'kafkajs');
        else logger.debug?.(line, 'kafkajs');
      },
  });
}
