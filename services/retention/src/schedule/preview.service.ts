import { Injectable } from '@nestjs/common';
import type { RetentionPreview } from '@veil/contracts';
import { inTenantTransaction, queryRows } from '@veil/platform/database';
import { DataSource } from 'typeorm';

import { VaultClient } from '../vault-client/vault-client';
import { Clock } from './clock';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A dry run: the inquiries the scheduler will request in the next `days` days, by the same
 * conditions (due by then, not requested, not redacted, not under an active legal hold now).
 */
@Injectable()
export class PreviewService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly vault: VaultClient,
    private readonly clock: Clock,
  ) {}

  async preview(organizationId: string, days: number): Promise<RetentionPreview> {
    const from = this.clock.now();
    const to = new Date(from.getTime() + days * DAY_MS);
    const due = await inTenantTransaction(this.dataSource, [organizationId], (tx) =>
      queryRows<{ inquiry_id: string; template_id: string }>(
        tx,
        `select inquiry_id, template_id from planned_inquiries
          where organization_id = $1 and due_at <= $2 and requested_at is null and redacted_at is null`,
        [organizationId, to],
      ),
    );
    const holds =
      due.length > 0
        ? await this.vault.heldAmong(
            organizationId,
            due.map((d) => d.inquiry_id),
          )
        : new Map();
    const byTemplate = new Map<string, number>();
    const held = new Map<string, number>();
    for (const d of due) {
      const hold = holds.get(d.inquiry_id);
      if (hold) held.set(hold.basis, (held.get(hold.basis) ?? 0) + 1);
      else byTemplate.set(d.template_id, (byTemplate.get(d.template_id) ?? 0) + 1);
    }
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      total: due.length - [...held.values()].reduce((a, b) => a + b, 0),
      byTemplate: [...byTemplate]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([templateId, count]) => ({ templateId, count })),
      held: [...held].sort(([a], [b]) => a.localeCompare(b)).map(([basis, count]) => ({ basis, count })),
    };
  }
}
