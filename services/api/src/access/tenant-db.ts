import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Transactions scoped to one organization. Row-level security reads `veil.organization_id`;
 * setting it here, per transaction, is what makes a forgotten `where organization_id = …` return
 * nothing instead of another tenant's rows.
 */
@Injectable()
export class TenantDb {
  constructor(private readonly dataSource: DataSource) {}

  forOrganization<T>(organizationId: string, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    if (!organizationId || organizationId === '*')
      throw new Error('a tenant transaction needs a concrete organization');
    return this.dataSource.transaction(async (tx) => {
      await tx.query(`select set_config('veil.organization_id', $1, true)`, [organizationId]);
      return work(tx);
    });
  }

  /** System work across organizations (consumers, maintenance); never reachable from a request. */
  system<T>(work: (tx: EntityManager) => Promise<T>, tx?: EntityManager): Promise<T> {
    const run = async (m: EntityManager): Promise<T> => {
      await m.query(`select set_config('veil.organization_id', '*', true)`);
      return work(m);
    };
    return tx ? run(tx) : this.dataSource.transaction(run);
  }
}
