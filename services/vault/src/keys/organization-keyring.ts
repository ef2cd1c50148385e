import { Logger } from '@nestjs/common';
import type { KeyCache, KeyLease, KmsKeyService } from '@veil/platform/crypto';
import { inTenantTransaction, queryRows } from '@veil/platform/database';
import type { DataSource } from 'typeorm';

export type KeyPurpose = 'kek' | 'blind_index';

interface KeyRow {
  version: number;
  wrapped_key: Buffer;
  uses_reserved: string;
  created_at: Date;
}

interface Reservation {
  version: number;
  createdAt: Date;
  /** Uses persisted as reserved in the database and not yet handed out by this process. */
  remaining: number;
}

export interface KeyringPolicy {
  /** Encryptions one KEK may perform before it rotates (well under the 2^32 GCM limit). */
  maxEncryptions: number;
  maxAgeMs: number;
  /** Uses reserved, and persisted, at a time. */
  reservationBlock: number;
}

/** A leased organization key: valid until `release()`, which every holder must call. */
export interface OrganizationKey extends KeyLease {
  version: number;
}

/**
 * Per-organization keys: key-encryption keys (wrap per-inquiry data keys) and a blind-index key.
 * Each is a KMS data key (GenerateDataKey under the root alias, with an encryption context naming
 * organization, purpose and version), stored wrapped, cached in plaintext with a bounded age and
 * use count, and recovered after a restart with KMS Decrypt. KMS calls therefore grow with
 * organizations x rotations, not with inquiries.
 *
 * Encryption budget: before a KEK wraps anything, uses are reserved in blocks and the reservation
 * is persisted, an upper bound that survives restarts. When a reservation would pass the budget, or
 * the key is older than its maximum age, the key rotates: a new version becomes active and old
 * versions keep decrypting.
 */
export class OrganizationKeyring {
  private readonly logger = new Logger('OrganizationKeyring');
  private readonly reservations = new Map<string, Reservation>();
  private readonly refilling = new Map<string, Promise<void>>();
  private readonly indexVersions = new Map<string, number>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly kms: KmsKeyService,
    private readonly cache: KeyCache,
    private readonly policy: KeyringPolicy,
  ) {}

  /** The active KEK of an organization, with `uses` encryptions taken from its budget. */
  async encryptionKey(organizationId: string, uses: number): Promise<OrganizationKey> {
    for (;;) {
      const r = this.reservations.get(organizationId);
      if (r && r.remaining >= uses && Date.now() - r.createdAt.getTime() < this.policy.maxAgeMs) {
        r.remaining -= uses;
        return withVersion(r.version, await this.keyByVersion(organizationId, 'kek', r.version, uses));
      }
      let refill = this.refilling.get(organizationId);
      if (!refill) {
        refill = this.reserve(organizationId, Math.max(uses, this.policy.reservationBlock)).finally(() =>
          this.refilling.delete(organizationId),
        );
        this.refilling.set(organizationId, refill);
      }
      await refill;
    }
  }

  /** The organization's blind-index key (a single version: rotating it would orphan every index). */
  async indexKey(organizationId: string): Promise<OrganizationKey> {
    const known = this.indexVersions.get(organizationId);
    if (known) return withVersion(known, await this.keyByVersion(organizationId, 'blind_index', known));
    let row = await this.activeRow(organizationId, 'blind_index');
    if (!row) {
      await this.createNextVersion(organizationId, 'blind_index');
      row = await this.activeRow(organizationId, 'blind_index');
    }
    if (!row) throw new Error('blind-index key missing after creation');
    this.indexVersions.set(organizationId, row.version);
    return withVersion(row.version, await this.keyByVersion(organizationId, 'blind_index', row.version));
  }

  /** Any version of a key, e.g. the KEK that wrapped an old data key; release the lease after use. */
  keyByVersion(organizationId: string, purpose: KeyPurpose, version: number, uses = 1): Promise<KeyLease> {
    return this.cache.lease(
      cacheId(organizationId, purpose, version),
      async () => {
        const [row] = await this.rows<KeyRow>(
          organizationId,
          `select version, wrapped_key, uses_reserved, created_at from organization_keys
            where organization_id = $1 and purpose = $2 and version = $3`,
          [organizationId, purpose, version],
        );
        if (!row) throw new Error(`no ${purpose} key version ${version} for the organization`);
        return this.kms.decrypt(row.wrapped_key, kmsContext(organizationId, purpose, version));
      },
      uses,
    );
  }

  /** Retires the active KEK (if it is still `expectedVersion`) and activates the next version. */
  async rotate(organizationId: string, expectedVersion?: number): Promise<number> {
    const current = await this.activeRow(organizationId, 'kek');
    if (current && (expectedVersion === undefined || current.version === expectedVersion)) {
      await this.rows(
        organizationId,
        `update organization_keys set retired_at = now()
          where organization_id = $1 and purpose = 'kek' and version = $2 and retired_at is null`,
        [organizationId, current.version],
      );
    }
    this.reservations.delete(organizationId);
    const version = await this.createNextVersion(organizationId, 'kek');
    this.logger.log({ msg: 'organization key rotated', organizationId, version });
    return version;
  }

  /** Reserves a block of uses on the active KEK, rotating first when budget or age say so. */
  private async reserve(organizationId: string, block: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = (await this.activeRow(organizationId, 'kek')) ?? (await this.createAndRead(organizationId));
      const tooOld = Date.now() - row.created_at.getTime() >= this.policy.maxAgeMs;
      if (tooOld || Number(row.uses_reserved) + block > this.policy.maxEncryptions) {
        this.logger.log({
          msg: tooOld
            ? 'organization key reached its maximum age'
            : 'organization key reached its encryption budget',
          organizationId,
          version: row.version,
          usesReserved: Number(row.uses_reserved),
        });
        await this.rotate(organizationId, row.version);
        continue;
      }
      const [updated] = await this.rows<{ uses_reserved: string }>(
        organizationId,
        `update organization_keys set uses_reserved = uses_reserved + $3
          where organization_id = $1 and purpose = 'kek' and version = $2 and retired_at is null
          returning uses_reserved`,
        [organizationId, row.version, block],
      );
      // Retired meanwhile by another replica, or the budget was passed by a concurrent reservation.
      if (!updated || Number(updated.uses_reserved) > this.policy.maxEncryptions) continue;
      this.reservations.set(organizationId, {
        version: row.version,
        createdAt: row.created_at,
        remaining: block,
      });
      return;
    }
    throw new Error('could not reserve organization key uses (contention)');
  }

  private async createAndRead(organizationId: string): Promise<KeyRow> {
    await this.createNextVersion(organizationId, 'kek');
    const row = await this.activeRow(organizationId, 'kek');
    if (!row) throw new Error('organization key missing after creation');
    return row;
  }

  private async activeRow(organizationId: string, purpose: KeyPurpose): Promise<KeyRow | undefined> {
    const [row] = await this.rows<KeyRow>(
      organizationId,
      `select version, wrapped_key, uses_reserved, created_at from organization_keys
        where organization_id = $1 and purpose = $2 and retired_at is null`,
      [organizationId, purpose],
    );
    return row;
  }

  /** A statement on one organization's keys; row-level security lets it reach no other. */
  private rows<T>(organizationId: string, sql: string, params: unknown[]): Promise<T[]> {
    return inTenantTransaction(this.dataSource, [organizationId], (tx) => queryRows<T>(tx, sql, params));
  }

  /**
   * Generates the next version in KMS and stores it as active. When another replica got there
   * first (unique active key, primary key on version), theirs stays and ours is discarded.
   */
  private async createNextVersion(organizationId: string, purpose: KeyPurpose): Promise<number> {
    const [{ next }] = (await this.rows<{ next: number }>(
      organizationId,
      `select coalesce(max(version), 0) + 1 as next from organization_keys where organization_id = $1 and purpose = $2`,
      [organizationId, purpose],
    )) as [{ next: number }];
    const generated = await this.kms.generate(kmsContext(organizationId, purpose, next));
    const inserted = await this.rows<{ version: number }>(
      organizationId,
      `insert into organization_keys (organization_id, purpose, version, wrapped_key, kms_key_id)
       values ($1, $2, $3, $4, $5) on conflict do nothing returning version`,
      [organizationId, purpose, next, generated.wrapped, generated.kmsKeyId],
    );
    if (inserted.length > 0) {
      this.cache.put(cacheId(organizationId, purpose, next), generated.plaintext);
    } else {
      generated.plaintext.fill(0);
    }
    return next;
  }
}

function withVersion(version: number, lease: KeyLease): OrganizationKey {
  return {
    version,
    get key() {
      return lease.key;
    },
    release: () => lease.release(),
  };
}

function cacheId(organizationId: string, purpose: KeyPurpose, version: number): string {
  return `${organizationId}\u0000${purpose}\u0000${version}`;
}

/** KMS encryption context: KMS refuses to decrypt a wrapped key under any other. */
export function kmsContext(
  organizationId: string,
  purpose: KeyPurpose,
  version: number,
): Record<string, string> {
  return { service: 'veil-vault', organizationId, purpose, version: String(version) };
}
