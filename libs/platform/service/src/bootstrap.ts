import 'reflect-metadata';

import { type DynamicModule, type INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@veil/platform/config';
import { JsonLogger } from '@veil/platform/logging';
import { HealthRegistry, ManagementServer, MetricsService } from '@veil/platform/observability';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json } from 'express';
import type { z } from 'zod';

import { expressErrorHandler, HttpErrorFilter, requestIdMiddleware } from './http';
import type { BaseConfig } from './service-modules';

export interface ServiceDefinition<S extends z.ZodType<BaseConfig & { PORT: number }>> {
  name: string;
  configSchema: S;
  module: (config: z.infer<S>) => DynamicModule;
}

/**
 * Boots a Veil service: validated configuration (exit 78 with one line per bad variable), JSON
 * logging, HTTP on the configured host and port, and a bounded graceful shutdown on SIGTERM or
 * SIGINT (stop being ready, drain consumers, flush the outbox relay, close the database).
 */
export async function bootstrapService<S extends z.ZodType<BaseConfig & { PORT: number }>>(
  definition: ServiceDefinition<S>,
): Promise<INestApplication> {
  const config = loadConfigOrExit(definition.name, definition.configSchema);
  const logger = new JsonLogger(definition.name, config.LOG_LEVEL);
  const log = new Logger('Bootstrap');

  process.on('unhandledRejection', (reason) => {
    logger.error({ msg: 'unhandled promise rejection', err: reason }, 'Process');
  });

  const app = await NestFactory.create<NestExpressApplication>(definition.module(config), {
    logger,
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false,
  });
  app.useLogger(logger);
  app.disable('x-powered-by');
  // Responses can carry PII: no hash of a body in an ETag, and nothing kept by caches on the way.
  app.set('etag', false);
  app.use(noStore);
  app.use(requestIdMiddleware);
  app.use(json({ limit: config.HTTP_BODY_LIMIT_BYTES, strict: true }));
  app.use(expressErrorHandler);
  app.useGlobalFilters(new HttpErrorFilter());
  const management = new ManagementServer(app.get(HealthRegistry), app.get(MetricsService));
  installGracefulShutdown(app, config.SHUTDOWN_TIMEOUT_MS, logger, () => management.close());
  await app.listen(config.PORT, config.HTTP_HOST);
  log.log({ msg: 'service started', url: await app.getUrl() });
  const managementUrl = await management.listen(config.MANAGEMENT_PORT, config.MANAGEMENT_HOST);
  log.log({ msg: 'management listening', url: managementUrl });
  return app;
}

/**
 * SIGTERM/SIGINT: run Nest's shutdown hooks (readiness off, consumers drain, relay stops, database
 * closes) and exit 0; exit 1 if that takes longer than the timeout.
 */
function installGracefulShutdown(
  app: INestApplication,
  timeoutMs: number,
  logger: JsonLogger,
  afterClose: () => Promise<void>,
): void {
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.log({ msg: 'shutting down', signal }, 'Bootstrap');
    setTimeout(() => {
      logger.error({ msg: 'graceful shutdown timed out; exiting', timeoutMs }, 'Bootstrap');
      process.exit(1);
    }, timeoutMs).unref();
    app
      .close()
      .then(afterClose)
      .then(() => {
        logger.log({ msg: 'stopped cleanly' }, 'Bootstrap');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ msg: 'shutdown failed', err: error }, 'Bootstrap');
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

function noStore(
  _req: unknown,
  res: { setHeader(name: string, value: string): void },
  next: () => void,
): void {
  res.setHeader('Cache-Control', 'no-store');
  next();
}
