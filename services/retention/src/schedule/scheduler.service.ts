import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { PiiRedactionRequested } from '@veil/contracts';
import { inTenantTransaction, queryRows } from '@veil/platform/database';
import { describeError, OutboxWriter } from '@veil/platform/kafka';
import { MetricsService } from '@veil/platform/observability';
import { createHash } from 'node:crypto';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';

import { RETENTION_CONFIG, type RetentionConfig } from '../config';
import { VaultClient } from '../vault-client/vault-client';
import { Clock } from './clock';

/**
 * Requests the redactions that are due. Each batch claims its rows (`for update skip locked`, so
 * replicas share the work), writes one `pii.redaction.requested` per inquiry to the outbox and
 * marks the rows requested, in one transaction: a crash before the commit requests nothing, after
 * it everything, and a row is never requested twice. The redaction id is derived from the
 * inquiry, so even a request written twice would be one redaction. Inquiries under a legal hold
 * are left for later (checked again every tick).
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RetentionScheduler');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly requested: Counter;
  private readonly held: Counter;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
    private readonly vault: VaultClient,
    private readonly clock: Clock,
    @Inject(RETENTION_CONFIG) private readonly config: RetentionConfig,
    metrics: MetricsService,
  ) {
    this.requested = new Counter({
      name: 'veil_retention_redactions_requested_total',
      help: 'Redactions requested because a retention policy made them due.',
      registers: [metrics.registry],
    });
    this.held = new Counter({
      name: 'veil_retention_held_total',
      help: 'Due redactions left alone because of a legal hold (counted at every check).',
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), this.config.RETENTION_TICK_MS);
    void this.tick();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = this.runDue()
      .then(() => undefined)
      .catch((error: unknown) =>
        this.logger.warn({ msg: 'retention run failed; next tick retries', ...describeError(error) }),
      )
      .finally(() => (this.running = undefined));
    await this.running;
  }

  /** Requests every redaction due now; returns how many. */
  async runDue(): Promise<number> {
    const now = this.clock.now();
    const organizations = await queryRows<{ organization_id: string }>(
      this.dataSource,
      'select organization_id from due_organizations($1)',
      [now],
    );
    let total = 0;
    for (const { organization_id: organizationId } of organizations) {
      for (;;) {
        const n = await this.runBatch(organizationId, now);
        total += n.requested;
        if (n.claimed < this.config.RETENTION_BATCH) break;
      }
    }
    if (total > 0) this.logger.log({ msg: 'retention redactions requested', count: total });
    return total;
  }

  private runBatch(organizationId: string, now: Date): Promise<{ claimed: number; requested: number }> {
    return inTenantTransaction(this.dataSource, [organizationId], async (tx) => {
      const due = await queryRows<{ inquiry_id: string }>(
        tx,
        `select inquiry_id from planned_inquiries
          where organization_id = $1 and due_at <= $2 and requested_at is null and redacted_at is null
            and (recheck_at is null or recheck_at <= $2)
          order by due_at, inquiry_id limit $3
          for update skip locked`,
        [organizationId, now, this.config.RETENTION_BATCH],
      );
      if (due.length === 0) return { claimed: 0, requested: 0 };
      const holds = await this.vault.heldAmong(
        organizationId,
        due.map((d) => d.inquiry_id),
      );
      if (holds.size > 0) {
        this.held.inc(holds.size);
        await tx.query(
          `update planned_inquiries p set held_by = h.hold, recheck_at = $3
             from json_to_recordset($2::json) as h(inq text, hold text)
            where p.organization_id = $1 and p.inquiry_id = h.inq`,
          [
            organizationId,
            JSON.stringify([...holds.values()].map((h) => ({ inq: h.inquiryId, hold: h.holdId }))),
            new Date(now.getTime() + this.config.RETENTION_TICK_MS),
          ],
        );
      }
      const todo = due.filter((d) => !holds.has(d.inquiry_id));
      if (todo.length === 0) return { claimed: due.length, requested: 0 };
      const requests = todo.map((d) => ({
        inquiryId: d.inquiry_id,
        redactionId: redactionIdFor(organizationId, d.inquiry_id),
      }));
      await tx.query(
        `update planned_inquiries p set requested_at = $3, redaction_id = r.id, held_by = null, recheck_at = null
           from json_to_recordset($2::json) as r(inq text, id text)
          where p.organization_id = $1 and p.inquiry_id = r.inq`,
        [organizationId, JSON.stringify(requests.map((r) => ({ inq: r.inquiryId, id: r.redactionId }))), now],
      );
      await this.outbox.enqueueMany(
        tx,
        PiiRedactionRequested,
        requests.map((r) => ({
          organizationId,
          data: {
            redactionId: r.redactionId,
            target: { kind: 'inquiry' as const, inquiryId: r.inquiryId },
            reason: 'retention_policy' as const,
            requestedBy: 'retention',
            requestedAt: now.toISOString(),
          },
        })),
      );
      this.requested.inc(requests.length);
      return { claimed: due.length, requested: requests.length };
    });
  }
}

/** One redaction id per inquiry under retention: a request written again is the same redaction. */
export function redactionIdFor(organizationId: string, inquiryId: string): string {
  const digest = createHash('sha256')
    .update(`retention\u0000${organizationId}\u0000${inquiryId}`)
    .digest('base64');
  return `red_${digest.replace(/[^A-Za-z0-9]/g, '').slice(0, 20)}`;
}
