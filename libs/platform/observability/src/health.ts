import {
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Injectable,
  type BeforeApplicationShutdown,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';

export type HealthCheck = () => Promise<void>;

export interface CheckResult {
  status: 'up' | 'down';
  error?: string;
  ms: number;
}

/**
 * The dependencies a service needs to do its work. Platform modules register theirs (database,
 * Kafka, KMS); readiness is the conjunction. Liveness only says the process is not wedged.
 */
@Injectable()
export class HealthRegistry implements BeforeApplicationShutdown {
  private readonly checks = new Map<string, HealthCheck>();
  private shuttingDown = false;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  beforeApplicationShutdown(): void {
    // Stop taking traffic first, so load balancers drain us before the consumers stop.
    this.shuttingDown = true;
  }

  async readiness(timeoutMs = 2_500): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ready = !this.shuttingDown && entries.every(([, r]) => r.status === 'up');
    if (this.shuttingDown) checks.shutdown = { status: 'down', error: 'shutting down', ms: 0 };
    return { ready, checks };
  }
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { status: 'up', ms: Date.now() - started };
  } catch (error) {
    return { status: 'down', error: (error as Error).message.slice(0, 200), ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Health on the service's main port, which may face customers: whether it is alive and ready,
 * nothing about why (dependency names and their errors are for operators: the management port).
 */
@Controller('health')
export class HealthController {
  constructor(private readonly registry: HealthRegistry) {}

  @Get('live')
  @HttpCode(HttpStatus.OK)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response): Promise<{ status: 'ready' | 'not_ready' }> {
    const { ready } = await this.registry.readiness();
    res.status(ready ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ready ? 'ready' : 'not_ready' };
  }
}
