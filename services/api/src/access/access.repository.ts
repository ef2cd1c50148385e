import { Injectable } from '@nestjs/common';
import { describeUnsafeText, OPERATOR_CHAIN_OWNER, type PiiAttribute } from '@veil/contracts';
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
      const columns = `k.key_id, k.organization_id, k.secret_hash, k.scopes, k.expires_at, k.revoked_at,
                       o.status = 'active' as org_active`;
      const rows = await queryRows<KeyRow>(
        tx,
        cursor === undefined
          ? `select ${columns} from api_keys k join organizations o using (organization_id)`
          : `select ${columns} from api_keys k join organizations o using (organization_id) where k.changed_xid >= $1::xid8
             union
             select ${columns} from api_keys k join organizations o using (organization_id) where o.changed_xid >= $1::xid8`,
        cursor === undefined ? [] : [cursor],
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
    const [row] = await queryRows<{ organization_id: string }>(
      this.dataSource,
      `insert into organizations (organization_id, name) values ($1, $2) on conflict do nothing returning organization_id`,
      [organizationId, name],
    );
    if (!row) throw new Error(`organization ${organizationId} already exists`);
    return (await this.organization(organizationId))!;
  }

  async organization(
    organizationId: string,
    tx: EntityManager | DataSource = this.dataSource,
  ): Promise<Organization | undefined> {
    const [row] = await queryRows<{
      organization_id: string;
      name: string;
      status: Organization['status'];
      enabled_attributes: PiiAttribute[];
      created_at: Date;
    }>(
      tx,
      `select organization_id, name, status, enabled_attributes, created_at from organizations where organization_id = $1`,
      [organizationId],
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
    const [row] = await queryRows<KeyRow>(
      tx,
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
    const rows = await queryRows<KeyRow>(
      this.dataSource,
      page.afterKeyId === undefined
        ? `select * from api_keys where organization_id = $1 order by created_at, key_id limit $2`
        : `select k.* from api_keys k
             join api_keys after on after.organization_id = $1 and after.key_id = $3
            where k.organization_id = $1 and (k.created_at, k.key_id) > (after.created_at, after.key_id)
            order by k.created_at, k.key_id limit $2`,
      page.afterKeyId === undefined
        ? [organizationId, page.limit]
        : [organizationId, page.limit, page.afterKeyId],
    );
    return rows.map(toView);
  }

  /** Revokes a key of this organization; undefined when there is no such key (for this organization). */
  async revokeKey(tx: EntityManager, organizationId: string, keyId: string): Promise<ApiKeyView | undefined> {
    const [row] = await queryRows<KeyRow>(
      tx,
      `update api_keys set revoked_at = coalesce(revoked_at, now())
        where organization_id = $1 and key_id = $2 returning *`,
      [organizationId, keyId],
    );
    return row ? toView(row) : undefined;
  }
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
