import { Injectable } from '@nestjs/common';
import { describeUnsafeText, OPERATOR_CHAIN_OWNER, OrganizationId, type PiiAttribute } from '@veil/contracts';
import { type ApiKeyChanges, type ApiKeySource, issueApiKey, type Scope } from '@veil/platform/auth';
import { queryRows } from '@veil/platform/database';
import { DataSource, type EntityManager } from 'typeorm';

import { MAX_API_KEY_NAME_CHARS, MAX_ORGANIZATION_NAME_CHARS } from '../http/api-schemas';

export interface Organization {
  organizationId: string;
  name: string;
  status: 'active' | 'suspended';
  enabledAttributes: PiiAttribute[];
  createdAt: string;
}

export interface ApiKeyView {
  keyId: string;
  name: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface KeyRow {
  key_id: string;
  organization_id: string;
  name: string;
  secret_hash: Buffer;
  scopes: Scope[];
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  org_active: boolean;
}

/** Organizations, API keys and enabled attributes: the access-control data Veil owns. */
@Injectable()
export class AccessRepository implements ApiKeySource {
  constructor(private readonly dataSource: DataSource) {}

  private scope(tx: EntityManager, organizationId: string): Promise<void> {
    return scopeTo(tx, organizationId);
  }

  /** `work` in a transaction scoped to the organization: the caller's, or a new one. */
  private scoped<T>(
    organizationId: string,
    tx: EntityManager | DataSource,
    work: (m: EntityManager) => Promise<T>,
  ): Promise<T> {
    const run = async (m: EntityManager) => {
      await scopeTo(m, organizationId);
      return work(m);
    };
    return tx instanceof DataSource ? tx.transaction(run) : run(tx);
  }

  /**
   * Keys changed (or whose organization changed) by transactions not yet visible at the snapshot
   * behind `cursor` (all keys without one), and the cursor for next time: the xmin of a snapshot
   * taken before the read. Transactions below it had finished; any at or above it are read again
   * next time, so a change is seen whatever order the commits come in (applying one twice is harmless).
   */
  async changedSince(cursor: string | undefined): Promise<ApiKeyChanges> {
    return this.dataSource.transaction('REPEATABLE READ', async (tx) => {
      const [{ horizon }] = (await queryRows<{ horizon: string }>(
        tx,
        `select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`,
      )) as [{ horizon: string }];
      // Every organization's keys: only through this function (row-level security holds everywhere else).
      const rows = await queryRows<KeyRow>(
        tx,
        `select key_id, organization_id, secret_hash, scopes, expires_at, revoked_at, org_active
           from key_registry_changes($1::xid8)`,
        [cursor ?? null],
      );
      return {
        cursor: horizon,
        keys: rows.map((r) => ({
          keyId: r.key_id,
          organizationId: r.organization_id,
          secretHash: r.secret_hash,
          scopes: r.scopes,
          expiresAt: r.expires_at,
          revokedAt: r.revoked_at,
          organizationActive: r.org_active,
        })),
      };
    });
  }

  async createOrganization(organizationId: string, name: string): Promise<Organization> {
    if (organizationId === OPERATOR_CHAIN_OWNER) throw new Error(`${organizationId} is a reserved id`);
    assertName('organization', name, MAX_ORGANIZATION_NAME_CHARS);
    return this.scoped(organizationId, this.dataSource, async (tx) => {
      const [row] = await queryRows<{ organization_id: string }>(
        tx,
        `insert into organizations (organization_id, name) values ($1, $2) on conflict do nothing returning organization_id`,
        [organizationId, name],
      );
      if (!row) throw new Error(`organization ${organizationId} already exists`);
      return (await this.organization(organizationId, tx))!;
    });
  }

  async organization(
    organizationId: string,
    tx: EntityManager | DataSource = this.dataSource,
  ): Promise<Organization | undefined> {
    const [row] = await this.scoped(organizationId, tx, (m) =>
      queryRows<{
        organization_id: string;
        name: string;
        status: Organization['status'];
        enabled_attributes: PiiAttribute[];
        created_at: Date;
      }>(
        m,
        `select organization_id, name, status, enabled_attributes, created_at from organizations where organization_id = $1`,
        [organizationId],
      ),
    );
    return row
      ? {
          organizationId: row.organization_id,
          name: row.name,
          status: row.status,
          enabledAttributes: row.enabled_attributes,
          createdAt: row.created_at.toISOString(),
        }
      : undefined;
  }

  /** Suspends or reactivates an organization (its keys stop or resume working on every replica); the previous status. */
  async setOrganizationStatus(
    tx: EntityManager,
    organizationId: string,
    status: Organization['status'],
  ): Promise<Organization['status'] | undefined> {
    await this.scope(tx, organizationId);
    const [before] = await queryRows<{ status: Organization['status'] }>(
      tx,
      `select status from organizations where organization_id = $1 for update`,
      [organizationId],
    );
    if (!before) return undefined;
    await tx.query(`update organizations set status = $2, updated_at = now() where organization_id = $1`, [
      organizationId,
      status,
    ]);
    return before.status;
  }

  /** Replaces the allowlist; returns the previous one (for the audit trail). Locks the row. */
  async setEnabledAttributes(
    tx: EntityManager,
    organizationId: string,
    attributes: PiiAttribute[],
  ): Promise<PiiAttribute[]> {
    await this.scope(tx, organizationId);
    const [before] = await queryRows<{ enabled_attributes: PiiAttribute[] }>(
      tx,
      `select enabled_attributes from organizations where organization_id = $1 for update`,
      [organizationId],
    );
    await tx.query(
      `update organizations set enabled_attributes = $2, updated_at = now() where organization_id = $1`,
      [organizationId, attributes],
    );
    return before?.enabled_attributes ?? [];
  }

  async createKey(
    tx: EntityManager | DataSource,
    organizationId: string,
    input: { name: string; scopes: Scope[]; expiresAt?: Date; createdBy: string },
  ): Promise<ApiKeyView & { secret: string }> {
    assertName('API key', input.name, MAX_API_KEY_NAME_CHARS);
    const issued = issueApiKey();
    const [row] = await this.scoped(organizationId, tx, (m) =>
      queryRows<KeyRow>(
        m,
        `insert into api_keys (key_id, organization_id, name, secret_hash, scopes, created_by, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7) returning *`,
        [
          issued.keyId,
          organizationId,
          input.name,
          issued.secretHash,
          [...new Set(input.scopes)],
          input.createdBy,
          input.expiresAt ?? null,
        ],
      ),
    );
    return { ...toView(row!), secret: issued.secret };
  }

  /**
   * The organization's keys, oldest first: `limit` of them after the key `afterKeyId` (none when
   * that is not a key of this organization).
   */
  async listKeys(
    organizationId: string,
    page: { afterKeyId?: string; limit: number },
  ): Promise<ApiKeyView[]> {
    const rows = await this.scoped(organizationId, this.dataSource, (m) =>
      queryRows<KeyRow>(
        m,
        page.afterKeyId === undefined
          ? `select * from api_keys where organization_id = $1 order by created_at, key_id limit $2`
          : `select k.* from api_keys k
             join api_keys after on after.organization_id = $1 and after.key_id = $3
            where k.organization_id = $1 and (k.created_at, k.key_id) > (after.created_at, after.key_id)
            order by k.created_at, k.key_id limit $2`,
        page.afterKeyId === undefined
          ? [organizationId, page.limit]
          : [organizationId, page.limit, page.afterKeyId],
      ),
    );
    return rows.map(toView);
  }

  /** Revokes a key of this organization; undefined when there is no such key (for this organization). */
  async revokeKey(tx: EntityManager, organizationId: string, keyId: string): Promise<ApiKeyView | undefined> {
    await this.scope(tx, organizationId);
    const [row] = await queryRows<KeyRow>(
      tx,
      `update api_keys set revoked_at = coalesce(revoked_at, now())
        where organization_id = $1 and key_id = $2 returning *`,
      [organizationId, keyId],
    );
    return row ? toView(row) : undefined;
  }
}

/**
 * Row-level security: a transaction sees only the rows of the organization it names. Every
 * method scopes the transaction it works in (a caller's, or its own) to the organization it was
 * asked about.
 */
async function scopeTo(tx: EntityManager, organizationId: string): Promise<void> {
  if (!OrganizationId.safeParse(organizationId).success) throw new Error('not an organization id');
  await tx.query(`select set_config('veil.organization_id', $1, true)`, [organizationId]);
}

/** Names are shown by the API, which promises these bounds (and text PostgreSQL stores as given). */
function assertName(what: string, name: string, max: number): void {
  if (name.length < 1 || name.length > max || describeUnsafeText(name).length > 0)
    throw new Error(`${what} names are 1-${max} characters, without U+0000 or unpaired surrogates`);
}

function toView(row: KeyRow): ApiKeyView {
  return {
    keyId: row.key_id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}
