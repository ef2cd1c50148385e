import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { decodeEvent, PiiRedacted, type PiiRedactedV1 } from '@veil/contracts';
import { confineTransaction, queryRows } from '@veil/platform/database';
import { backoffDelay, DEFAULT_BACKOFF, describeError, KAFKA_CLIENT, sleep } from '@veil/platform/kafka';
import { HealthRegistry, MetricsService } from '@veil/platform/observability';
import { ApiError } from '@veil/platform/service';
import type { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { Counter } from 'prom-client';
import { DataSource } from 'typeorm';

import { lockOrganizations } from './redaction.service';

export interface ReconcileReport {
  /** Ledger records read from `pii.redacted`. */
  entries: number;
  /** Ledger rows the database lacked (e.g. restored from a backup older than the redaction). */
  ledgerRestored: number;
  /** Data keys deleted again: ciphertexts a restored backup had brought back. */
  keysShredded: number;
}

/**
 * The database is not the only ledger: `pii.redacted` (compacted, kept forever) is the ledger of
 * record. At start-up, before the vault stores or reveals anything (it answers 503 and is not
 * ready meanwhile), every record on it is re-applied, so a database restored from a backup taken
 * before a redaction cannot reveal that data again.
 */
@Injectable()
export class LedgerReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LedgerReconciler');
  private done = false;
  private stopping = false;
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private readonly reapplied: Counter<'what'>;
  lastReport?: ReconcileReport;

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    private readonly dataSource: DataSource,
    health: HealthRegistry,
    metrics: MetricsService,
  ) {
    health.register('redaction-ledger', async () => {
      if (!this.done) throw new Error('reconciling the redaction ledger from pii.redacted');
    });
    this.reapplied = new Counter({
      name: 'veil_redaction_ledger_reapplied_total',
      help: 'Redactions the start-up reconciliation had to apply again (ledger rows restored, keys shredded).',
      labelNames: ['what'],
      registers: [metrics.registry],
    });
  }

  onApplicationBootstrap(): void {
    this.running = this.reconcileWithRetry();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.running;
  }

  /** Refuses an operation on PII until the ledger is reconciled. */
  assertReconciled(): void {
    if (!this.done)
      throw ApiError.unavailable(
        'vault_reconciling',
        'the vault is reconciling its redaction ledger; retry shortly',
      );
  }

  private async reconcileWithRetry(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        const report = await this.reconcile();
        this.done = true;
        this.logger.log({ msg: 'redaction ledger reconciled', ...report });
        return;
      } catch (error) {
        this.logger.warn({
          msg: 'ledger reconciliation failed; retrying',
          attempt: attempt + 1,
          ...describeError(error),
        });
        await sleep(backoffDelay(attempt, DEFAULT_BACKOFF), this.abort.signal);
      }
    }
  }

  /** Reads `pii.redacted` from its first offset to the end as of now, and re-applies every record. */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { entries: 0, ledgerRestored: 0, keysShredded: 0 };
    const topic = PiiRedacted.topic.name;
    const admin = this.kafka.admin();
    await admin.connect();
    const groupId = `vault.ledger-reconcile.${randomUUID()}`;
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      const pending = new Map(
        offsets.filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high) - 1n]),
      );
      if (pending.size === 0) return (this.lastReport = report);
      const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer
            .run({
              autoCommit: false,
              eachBatch: async ({ batch }) => {
                const entries: { organizationId: string; data: PiiRedactedV1 }[] = [];
                for (const message of batch.messages) {
                  const decoded = decodeEvent([PiiRedacted], message.value);
                  // fail closed: a record that cannot be read may be a redaction not re-applied
                  if (!decoded.ok) {
                    reject(
                      new Error(
                        `unreadable ledger record at ${topic}/${batch.partition}@${message.offset}: ${decoded.code}`,
                      ),
                    );
                    return;
                  }
                  entries.push({
                    organizationId: decoded.event.organizationId,
                    data: decoded.event.data as PiiRedactedV1,
                  });
                }
                await this.reapply(entries, report);
                const last = pending.get(batch.partition);
                if (last !== undefined && BigInt(batch.lastOffset()) >= last) pending.delete(batch.partition);
                if (pending.size === 0) resolve();
              },
            })
            .catch(reject);
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
          this.abort.signal.addEventListener('abort', () => reject(new Error('stopping')), { once: true });
        });
      } finally {
        await consumer.disconnect();
      }
      await admin.deleteGroups([groupId]).catch(() => undefined);
      return (this.lastReport = report);
    } finally {
      await admin.disconnect();
    }
  }

  private async reapply(
    entries: { organizationId: string; data: PiiRedactedV1 }[],
    report: ReconcileReport,
  ): Promise<void> {
    report.entries += entries.length;
    if (entries.length === 0) return;
    const organizations = [...new Set(entries.map((e) => e.organizationId))];
    const [row] = await this.dataSource.transaction(async (tx) => {
      await confineTransaction(tx, organizations);
      await lockOrganizations(tx, organizations);
      return queryRows<{ ledgered: number; shredded: number }>(
        tx,
        `with w as (
           select distinct on (org, inq) org, inq, id, attrs, at
             from json_to_recordset($1::json) as r(org text, inq text, id text, attrs text[], at timestamptz)
         ),
         ledgered as (
           insert into redacted_inquiries (organization_id, inquiry_id, redaction_id, attributes, redacted_at)
           select org, inq, id, attrs, at from w on conflict do nothing returning 1
         ),
         shredded as (
           delete from data_keys d using w where d.organization_id = w.org and d.inquiry_id = w.inq returning 1
         )
         select (select count(*)::int from ledgered) as ledgered, (select count(*)::int from shredded) as shredded`,
        [
          JSON.stringify(
            entries.map((e) => ({
              org: e.organizationId,
              inq: e.data.inquiryId,
              id: e.data.redactionId,
              attrs: e.data.attributesRedacted,
              at: e.data.redactedAt,
            })),
          ),
        ],
      );
    });
    report.ledgerRestored += row!.ledgered;
    report.keysShredded += row!.shredded;
    if (row!.ledgered > 0) this.reapplied.inc({ what: 'ledger_row' }, row!.ledgered);
    if (row!.shredded > 0) this.reapplied.inc({ what: 'data_key' }, row!.shredded);
  }
}
