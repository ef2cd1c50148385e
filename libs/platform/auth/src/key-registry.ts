import { Logger } from '@nestjs/common';

import { parseApiKey, type Scope, secretMatches } from './api-keys';

export interface ApiKeyRecord {
  keyId: string;
  organizationId: string;
  secretHash: Buffer;
  scopes: Scope[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  /** The organization is active (a suspended organization's keys stop working). */
  organizationActive: boolean;
  /** Monotonic change marker (e.g. a database sequence) for incremental refresh. */
  version: number;
}

/** Where keys come from: the owning service's table, or an event stream of key changes. */
export interface ApiKeySource {
  /** Every key changed after `sinceVersion` (all keys when 0), in version order. */
  changedSince(sinceVersion: number): Promise<ApiKeyRecord[]>;
}

export interface Principal {
  keyId: string;
  organizationId: string;
  scopes: ReadonlySet<Scope>;
}

export type VerifyResult =
  { ok: true; principal: Principal } | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked' };

/**
 * Verifies API keys from memory: the registry mirrors the key table and refreshes its changes
 * every `refreshMs` (default 1 s), so verification never touches the database and a revocation
 * takes effect within one refresh on every process that authenticates.
 */
export class ApiKeyRegistry {
  private readonly logger = new Logger('ApiKeyRegistry');
  private readonly keys = new Map<string, ApiKeyRecord>();
  private version = 0;
  private timer?: NodeJS.Timeout;
  private lastRefresh = 0;
  private refreshing?: Promise<void>;

  constructor(
    private readonly source: ApiKeySource,
    private readonly refreshMs = 1_000,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Healthy while refreshes succeed: a stale registry would miss revocations. */
  get stalenessMs(): number {
    return Date.now() - this.lastRefresh;
  }

  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const changed = await this.source.changedSince(this.version);
        for (const key of changed) {
          this.keys.set(key.keyId, key);
          this.version = Math.max(this.version, key.version);
        }
        this.lastRefresh = Date.now();
      } catch (error) {
        this.logger.warn({ msg: 'API key refresh failed', error: (error as Error).name });
        throw error;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  verify(presented: string | undefined, now = new Date()): VerifyResult {
    const parsed = presented ? parseApiKey(presented) : undefined;
    if (!parsed) return { ok: false, reason: 'malformed' };
    const key = this.keys.get(parsed.keyId);
    if (!key || !secretMatches(parsed.secretPart, key.secretHash)) return { ok: false, reason: 'unknown' };
    if (key.revokedAt || !key.organizationActive) return { ok: false, reason: 'revoked' };
    if (key.expiresAt && key.expiresAt <= now) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      principal: { keyId: key.keyId, organizationId: key.organizationId, scopes: new Set(key.scopes) },
    };
  }
}
