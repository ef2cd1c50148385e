import { Injectable } from '@nestjs/common';
import { confineTransaction, inTenantTransaction } from '@veil/platform/database';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Transactions scoped to one organization (a customer's request) or to the organizations of a
 * consumed batch; row-level security confines them to exactly those (see tenant-scope.ts).
 */
@Injectable()
export class TenantDb {
  constructor(private readonly dataSource: DataSource) {}

  forOrganization<T>(organizationId: string, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return inTenantTransaction(this.dataSource, [organizationId], work);
  }

  /** Several organizations at once (a consumed batch of the read model). Never reachable from a request. */
  async forOrganizations<T>(
    organizationIds: readonly string[],
    work: (tx: EntityManager) => Promise<T>,
    tx?: EntityManager,
  ): Promise<T> {
    if (!tx) return inTenantTransaction(this.dataSource, organizationIds, work);
    await confineTransaction(tx, organizationIds);
    return work(tx);
  }
}
