import type { LoggerService } from '@nestjs/common';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';

import { registerCompressionCodecs } from './compression';

export interface KafkaClientOptions {
  clientId: string;
  brokers: string[];
  logger: LoggerService;
}

/** A kafkajs client whose own log lines go through Veil's structured, redacting logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  registerCompressionCodecs();
  const { logger } = options;
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8, maxRetryTime: 10_000 },
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
