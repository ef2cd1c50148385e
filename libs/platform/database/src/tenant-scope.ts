import { OrganizationId } from '@veil/contracts';
import { escapeLiteral } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * Row-level security on tenant-scoped tables reads this setting: the organizations (comma
 * separated; a comma cannot occur in an organization id) whose rows the transaction may see and
 * write. Setting it per transaction is what makes a forgotten `where organization_id = …` return
 * nothing instead of another tenant's rows. The policies (in each service's migrations) are
 *   organization_id = any(string_to_array(current_setting('veil.organization_id', true), ','))
 */
export const TENANT_SETTING = 'veil.organization_id';

function scopeValue(organizationIds: readonly string[]): string {
  if (organizationIds.length === 0 || organizationIds.some((id) => !OrganizationId.safeParse(id).success))
    throw new Error('a tenant transaction needs concrete organizations');
  return [...new Set(organizationIds)].join(',');
}

/**
 * Runs `work` in a transaction confined to the named organizations. One round trip opens and
 * scopes it (a multi-statement simple query takes no parameters; the ids are validated opaque ids,
 * quoted as a literal all the same).
 */
export async function inTenantTransaction<T>(
  dataSource: DataSource,
  organizationIds: readonly string[],
  work: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  const scope = scopeValue(organizationIds);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`begin; select set_config('${TENANT_SETTING}', ${escapeLiteral(scope)}, true)`);
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

/** Confines a transaction that is already open (e.g. one a consumer holds for its batch). */
export async function confineTransaction(
  tx: EntityManager,
  organizationIds: readonly string[],
): Promise<void> {
  await tx.query(`select set_config('${TENANT_SETTING}', $1, true)`, [scopeValue(organizationIds)]);
}

/**
 * Takes a transaction-scoped advisory lock per organization, in one lock space (a number each
 * service picks for one purpose, so that its locks never collide with another purpose's or with
 * the single-key locks of the outbox). Shared holders run together; an exclusive holder waits for
 * them and they for it. Sorted, so two transactions never wait on each other in a cycle.
 */
export async function lockOrganizations(
  tx: EntityManager,
  lockSpace: number,
  organizationIds: readonly string[],
  mode: 'shared' | 'exclusive',
): Promise<void> {
  const lock = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  await tx.query(`select ${lock}($1::int, hashtext(o)) from unnest($2::text[]) as o`, [
    lockSpace,
    [...new Set(organizationIds)].sort(),
  ]);
}
