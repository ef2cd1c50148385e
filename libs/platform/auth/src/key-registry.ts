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
}

export interface ApiKeyChanges {
  keys: ApiKeyRecord[];
  /** Opaque position to pass to the next call. */
  cursor: string;
}

/** Where keys come from: the owning service's table, or an event stream of key changes. */
export interface ApiKeySource {
  /**
   * Every key that may have changed since `cursor` (all keys without one). It must never miss a
   * change whatever order concurrent changes commit in; returning a key again is harmless.
   */
  changedSince(cursor: string | undefined): Promise<ApiKeyChanges>;
}

export interface Principal {
  keyId: string;
  organizationId: string;
  scopes: ReadonlySet<Scope>;
  /** A signed access grant for this request (a service that calls another for customers mints one). */
  grant?: string;
}

export type VerifyResult =
  { ok: true; principal: Principal } | { ok: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked' };

/**
 * Verifies API keys from memory: the registry mirrors the key table and refreshes its changes
 * every `refreshMs` (default 1 s), so verification never touches the database and a revocation or
 * an organization's suspension takes effect within about one refresh (after its commit) on every
 * process that authenticates.
 */
export class ApiKeyRegistry {
  private readonly logger = new Logger('ApiKeyRegistry');
  private readonly keys = new Map<string, ApiKeyRecord>();
  private cursor?: string;
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
        const { keys, cursor } = await this.source.changedSince(this.cursor);
        for (const key of keys) this.keys.set(key.keyId, key);
        this.cursor = cursor;
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
