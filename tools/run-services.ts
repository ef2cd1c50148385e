/**
 * Starts every Veil service against the infrastructure in the environment (or $VEIL_HOME/env),
 * waits until each is ready, prints their URLs, and on Ctrl-C (or SIGTERM) stops them gracefully.
 * Full logs: $VEIL_HOME/logs/<service>.log.
 */
import { join } from 'node:path';

import { loadInfraEnv } from '@veil/platform/config';
import { SERVICE_CATALOG } from '@veil/service-catalog';
import { logDirectory, ServiceProcess, stopWhenOrphaned } from '@veil/testing';

async function main(): Promise<void> {
  loadInfraEnv();
  const services = SERVICE_CATALOG.map(
    (entry) => new ServiceProcess(entry.name, { logFile: join(logDirectory(), `${entry.name}.log`) }),
  );
  let stopping = false;
  const stopAll = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      process.stdout.write('\nstopping services...\n');
      const results = await Promise.allSettled(services.filter((s) => s.running).map((s) => s.stop()));
      for (const r of results) if (r.status === 'rejected') process.stderr.write(`${String(r.reason)}\n`);
      process.stdout.write('all services stopped\n');
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  stopWhenOrphaned(() => void stopAll(0));

  for (const service of services) service.start();
  try {
    await Promise.all(services.map((s) => s.waitReady(90_000)));
  } catch (error) {
    process.stderr.write(`a service did not become ready: ${(error as Error).message}\n`);
    await stopAll(1);
  }
  process.stdout.write('\nVeil is up:\n');
  for (const s of services) {
    process.stdout.write(
      `  ${s.service.name.padEnd(10)} ${s.baseUrl}   (management: http://127.0.0.1:${s.env.MANAGEMENT_PORT}/health/ready, /metrics)\n`,
    );
  }
  if (process.env.KAFKA_SECURITY_PROTOCOL === 'sasl_ssl' && process.env.VEIL_KAFKA_PASSWORD_UPSTREAM) {
    // What an upstream system needs to publish inquiries (README: "Connecting to the local broker").
    process.stdout.write(
      `\nKafka ${process.env.KAFKA_BROKERS} (SASL_SSL, SCRAM-SHA-512, CA ${process.env.KAFKA_SSL_CA_FILE})\n` +
        `  upstream publisher: user veil-upstream, password ${process.env.VEIL_KAFKA_PASSWORD_UPSTREAM}\n` +
        `  (may write inquiry.created only; every principal's password is in .veil/env)\n`,
    );
  }
  process.stdout.write(`\nlogs in ${logDirectory()}; press Ctrl-C to stop\n`);

  // A service that dies on its own takes the stack down with a clear message.
  await Promise.race(
    services.map(async (s) => {
      const exit = await s.waitExit(2 ** 31 - 1);
      if (!stopping) {
        process.stderr.write(
          `${s.service.name} exited unexpectedly (${exit.signal ?? exit.code}); see ${s.logFile}\n`,
        );
        await stopAll(1);
      }
    }),
  );
}

void main();
