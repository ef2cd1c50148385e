import { Injectable } from '@nestjs/common';
import {
  AuditEvent,
  type RequestOf,
  type RetentionApi,
  type RetentionPolicyView,
  type RetentionRule,
} from '@veil/contracts';
import { inTenantTransaction, lockOrganizations, queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { DataSource, type EntityManager } from 'typeorm';

import { dueAtSql } from './rules';

type Ops = typeof RetentionApi.operations;

/** Lock space of an organization's policy: changes take it exclusively, plans shared. */
export const POLICY_LOCKS = 3001;

/** Per-organization retention rules. A change plans every not yet requested inquiry again, audited. */
@Injectable()
export class PolicyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxWriter,
  ) {}

  get(organizationId: string): Promise<RetentionPolicyView> {
    return inTenantTransaction(this.dataSource, [organizationId], (tx) => this.read(tx, organizationId));
  }

  async put(request: RequestOf<Ops['putPolicy']>): Promise<RetentionPolicyView> {
    const { organizationId, rules } = request;
    return inTenantTransaction(this.dataSource, [organizationId], async (tx) => {
      // one change at a time per organization: the plan follows the last policy written
      await lockOrganizations(tx, POLICY_LOCKS, [organizationId], 'exclusive');
      const before = await this.read(tx, organizationId);
      await tx.query(
        `insert into policies (organization_id, rules, updated_at, updated_by) values ($1, $2::jsonb, now(), $3)
         on conflict (organization_id) do update set rules = excluded.rules, updated_at = now(), updated_by = excluded.updated_by`,
        [organizationId, JSON.stringify(rules), request.actor.id],
      );
      // Shorter periods apply to old inquiries, longer ones (or none) stop pending ones: everything
      // not requested yet is planned again.
      await tx.query(
        `update planned_inquiries set due_at = ${dueAtSql('$2::jsonb')}, recheck_at = null, held_by = null
          where organization_id = $1 and requested_at is null and redacted_at is null`,
        [organizationId, JSON.stringify(rules)],
      );
      await this.outbox.enqueue(
        tx,
        AuditEvent,
        {
          organizationId,
          correlationId: request.requestId,
          data: {
            action: 'retention.policy_changed',
            actor: request.actor,
            outcome: 'allowed',
            targets: { resourceIds: [] },
            change: {
              field: 'retention.rules',
              before: before.rules.map(describe),
              after: rules.map(describe),
            },
            requestId: request.requestId,
          },
        },
        { ordered: false },
      );
      return this.read(tx, organizationId);
    });
  }

  /** The organization's rules as jsonb, for planning in SQL (`[]`: none). */
  static rulesSql(organizationParam: string): string {
    return `coalesce((select p.rules from policies p where p.organization_id = ${organizationParam}), '[]'::jsonb)`;
  }

  private async read(tx: EntityManager, organizationId: string): Promise<RetentionPolicyView> {
    const [row] = await queryRows<{ rules: RetentionRule[]; updated_at: Date }>(
      tx,
      'select rules, updated_at from policies where organization_id = $1',
      [organizationId],
    );
    return { rules: row?.rules ?? [], updatedAt: row?.updated_at.toISOString() ?? null };
  }
}

/** A rule as the audit entry shows it (64 characters at most), e.g. "itmpl_kyc: 30d after terminal_status". */
function describe(rule: RetentionRule): string {
  return `${rule.templateId ?? '*'}: ${rule.days}d after ${rule.after}`.slice(0, 64);
}
