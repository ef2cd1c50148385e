import { Injectable } from '@nestjs/common';
import { OrganizationId } from '@veil/contracts';
import { escapeLiteral } from 'pg';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * Transactions scoped to one organization. Row-level security reads `veil.organization_id`;
 * setting it here, per transaction, is what makes a forgotten `where organization_id = …` return
 * nothing instead of another tenant's rows.
 */
@Injectable()
export class TenantDb {
  constructor(private readonly dataSource: DataSource) {}

  async forOrganization<T>(organizationId: string, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    if (!OrganizationId.safeParse(organizationId).success)
      throw new Error('a tenant transaction needs a concrete organization');
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      // One round trip opens the transaction and scopes it (a multi-statement simple query takes no
      // parameters; the id is a validated opaque id, and quoted as a literal all the same).
      await runner.query(
        `begin; select set_config('veil.organization_id', ${escapeLiteral(organizationId)}, true)`,
      );
      try {
        const result = await work(runner.manager);
        await runner.query('commit');
        return result;
      } catch (error) {
        await runner.query('rollback').catch(() => undefined); // a broken connection leaves the pool
        throw error;
      }
    } finally {
      await runner.release();
    }
  }

  /**
   * Work on the rows of several organizations at once (a consumed batch of the read model), each
   * named: row-level security still confines it to exactly those. Never reachable from a request.
   */
  forOrganizations<T>(
    organizationIds: readonly string[],
    work: (tx: EntityManager) => Promise<T>,
    tx?: EntityManager,
  ): Promise<T> {
    if (organizationIds.length === 0 || organizationIds.some((id) => !OrganizationId.safeParse(id).success))
      throw new Error('a tenant transaction needs concrete organizations');
    const run = async (m: EntityManager): Promise<T> => {
      await m.query(`select set_config('veil.organization_id', $1, true)`, [
        [...new Set(organizationIds)].join(','),
      ]);
      return work(m);
    };
    return tx ? run(tx) : this.dataSource.transaction(run);
  }
}
