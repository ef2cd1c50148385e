import { Injectable } from '@nestjs/common';
import { AuditEvent, type AuditEventV1 } from '@veil/contracts';
import type { DenialAuditor, Principal, Scope } from '@veil/platform/auth';
import { OutboxWriter } from '@veil/platform/kafka';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Writes the customer API's own audit events to its outbox, in the caller's transaction (so an
 * access or change that cannot be audited does not happen). Reveals are audited by the vault.
 * Reading the audit log is `../audit-log` (a client of the audit-log service).
 */
@Injectable()
export class AuditEventWriter implements DenialAuditor {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  async emit(tx: EntityManager, principal: Principal, event: Omit<AuditEventV1, 'actor'>): Promise<void> {
    await this.outbox.enqueue(
      tx,
      AuditEvent,
      {
        organizationId: principal.organizationId,
        ...(event.requestId ? { correlationId: event.requestId } : {}),
        data: { ...event, actor: { type: 'api_key', id: principal.keyId } },
      },
      { ordered: false },
    );
  }

  /** Every 403: who tried what, and which scope was missing. */
  async denied(principal: Principal, route: string, missing: Scope[], requestId: string): Promise<void> {
    await this.dataSource.transaction((tx) =>
      this.emit(tx, principal, {
        action: 'access.denied',
        outcome: 'denied',
        targets: { resourceIds: [] },
        purpose: `${route} needs ${missing.join(', ')}`.slice(0, 256),
        ...(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(requestId) ? { requestId } : {}),
      }),
    );
  }
}
