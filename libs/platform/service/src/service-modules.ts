import type { DynamicModule, Type } from '@nestjs/common';
import type { baseConfigSchema } from '@veil/platform/config';
import { DatabaseModule } from '@veil/platform/database';
import { KafkaModule, MESSAGING_MIGRATIONS } from '@veil/platform/kafka';
import { ObservabilityModule } from '@veil/platform/observability';
import type { z } from 'zod';

export type BaseConfig = z.infer<typeof baseConfigSchema>;

export interface ServiceModulesOptions {
  service: string;
  config: BaseConfig;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own type
  entities?: Function[];
  /** The service's own migrations; the messaging tables (inbox, outbox) come first automatically. */
  migrations?: Type<unknown>[];
  relayOutbox?: boolean;
}

/** What every Veil service is built on, in boot order: health and metrics, its database, Kafka. */
export function serviceModules(options: ServiceModulesOptions): DynamicModule[] {
  const { config, service } = options;
  return [
    ObservabilityModule.forRoot({ service }),
    DatabaseModule.forRoot({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      applicationName: `veil-${service}`,
      poolSize: config.DATABASE_POOL_SIZE,
      statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
      entities: options.entities ?? [],
      migrations: [...MESSAGING_MIGRATIONS, ...(options.migrations ?? [])],
      migrateOnBoot: true,
    }),
    KafkaModule.forRoot({
      service,
      clientId: config.KAFKA_CLIENT_ID ?? `veil-${service}`,
      brokers: config.KAFKA_BROKERS,
      security: {
        protocol: config.KAFKA_SECURITY_PROTOCOL,
        mechanism: config.KAFKA_SASL_MECHANISM,
        ...(config.KAFKA_SASL_USERNAME ? { username: config.KAFKA_SASL_USERNAME } : {}),
        ...(config.KAFKA_SASL_PASSWORD ? { password: config.KAFKA_SASL_PASSWORD } : {}),
        ...(config.KAFKA_SSL_CA_FILE ? { caFile: config.KAFKA_SSL_CA_FILE } : {}),
      },
      relayOutbox: options.relayOutbox ?? true,
      maxEventBytes: config.KAFKA_MAX_EVENT_BYTES,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    }),
  ];
}
