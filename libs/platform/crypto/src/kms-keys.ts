import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';

import { assertUsableKey } from './envelope-format';

/** KMS could not be reached or refused for a passing reason: retry later, never fall back to plaintext. */
export class KmsUnavailableError extends Error {
  readonly retriable = true;
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'KmsUnavailableError';
  }
}

const PERMANENT_KMS_ERRORS = new Set([
  'NotFoundException',
  'DisabledException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'AccessDeniedException',
  'KMSInvalidStateException',
  'ValidationException',
]);

export interface KmsDataKey {
  plaintext: Buffer;
  /** KMS-wrapped copy; stored, and turned back into `plaintext` with KMS Decrypt after a restart. */
  wrapped: Buffer;
  kmsKeyId: string;
}

/**
 * The only two KMS operations Veil's data path needs: GenerateDataKey for a new organization
 * key and Decrypt to recover one after a restart. The encryption context binds each wrapped key
 * to its organization and purpose (KMS refuses to decrypt it under any other context, and
 * CloudTrail records it). Counts calls so tests and benchmarks can show caching works.
 */
export class KmsKeyService {
  calls = 0;

  constructor(
    private readonly client: KMSClient,
    private readonly rootKeyAlias: string,
  ) {}

  async generate(context: Record<string, string>): Promise<KmsDataKey> {
    const out = await this.call(() =>
      this.client.send(
        new GenerateDataKeyCommand({
          KeyId: this.rootKeyAlias,
          KeySpec: 'AES_256',
          EncryptionContext: context,
        }),
      ),
    );
    if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId) {
      out.Plaintext?.fill(0);
      throw new KmsUnavailableError('KMS returned an incomplete data key');
    }
    return {
      plaintext: takePlaintext(out.Plaintext),
      wrapped: Buffer.from(out.CiphertextBlob),
      kmsKeyId: out.KeyId,
    };
  }

  async decrypt(wrapped: Buffer, context: Record<string, string>): Promise<Buffer> {
    const out = await this.call(() =>
      this.client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context })),
    );
    if (!out.Plaintext) throw new KmsUnavailableError('KMS returned no plaintext');
    return takePlaintext(out.Plaintext);
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    this.calls++;
    try {
      return await operation();
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (PERMANENT_KMS_ERRORS.has(name)) throw error;
      throw new KmsUnavailableError(`KMS call failed: ${name || (error as Error).message}`, error);
    }
  }
}

/** Copies a key out of the SDK's response and zeroes the SDK's own buffer, so one copy remains. */
function takePlaintext(sdkBytes: Uint8Array): Buffer {
  const key = Buffer.from(sdkBytes);
  sdkBytes.fill(0);
  return key;
}

interface CacheEntry {
  key: Buffer;
  loadedAt: number;
  uses: number;
  /** Leases not yet released: the key is zeroed only when it is evicted and this is 0. */
  leases: number;
  evicted: boolean;
  zeroed: boolean;
}

export interface KeyCacheOptions {
  maxAgeMs: number;
  maxUses: number;
  now?: () => number;
}

/**
 * A key handed out by the cache. The bytes stay valid (never zeroed, even when the cache drops
 * the key meanwhile) until `release()`; after that, reading `key` throws. Release every lease.
 */
export interface KeyLease {
  readonly key: Buffer;
  release(): void;
}

/**
 * Plaintext key-encryption keys in memory, each for at most `maxAgeMs` and `maxUses` uses, then
 * dropped so the next use goes back to KMS. A dropped key is zeroed once its last lease is
 * released: a request that still holds it can never see it change under it (a key zeroed
 * mid-request would wrap data keys under 32 zero bytes). Concurrent misses for one key share a
 * single load, and its waiters share its uses.
 */
export class KeyCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  private readonly now: () => number;

  constructor(private readonly options: KeyCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Leases the key for `id`, loading it when absent, too old or used up; counts `uses` uses. */
  async lease(id: string, load: () => Promise<Buffer>, uses = 1): Promise<KeyLease> {
    for (;;) {
      let entry = this.entries.get(id);
      if (
        entry &&
        (this.now() - entry.loadedAt >= this.options.maxAgeMs || entry.uses + uses > this.options.maxUses)
      ) {
        this.evict(id);
        entry = undefined;
      }
      if (!entry) entry = await this.load(id, load);
      // Dropped and zeroed between the load and this continuation (no lease held it): load again.
      if (entry.zeroed) continue;
      entry.uses += uses;
      return this.leaseOf(entry);
    }
  }

  /** Runs `fn` with the key leased, releasing it afterwards whatever happens. */
  async withKey<T>(
    id: string,
    load: () => Promise<Buffer>,
    uses: number,
    fn: (key: Buffer) => T | Promise<T>,
  ): Promise<T> {
    const lease = await this.lease(id, load, uses);
    try {
      return await fn(lease.key);
    } finally {
      lease.release();
    }
  }

  /** Caches a key obtained another way (e.g. the plaintext half of a fresh GenerateDataKey). */
  put(id: string, key: Buffer): void {
    assertUsableKey(key);
    this.evict(id);
    this.entries.set(id, newEntry(key, this.now()));
  }

  evict(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    entry.evicted = true;
    if (entry.leases === 0) zero(entry);
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.evict(id);
  }

  get size(): number {
    return this.entries.size;
  }

  private load(id: string, load: () => Promise<Buffer>): Promise<CacheEntry> {
    let pending = this.loading.get(id);
    if (!pending) {
      pending = load().then((key) => {
        assertUsableKey(key);
        return newEntry(key, this.now());
      });
      this.loading.set(id, pending);
      pending.then(
        (loaded) => {
          this.loading.delete(id);
          this.evict(id);
          this.entries.set(id, loaded);
        },
        () => this.loading.delete(id),
      );
    }
    return pending;
  }

  private leaseOf(entry: CacheEntry): KeyLease {
    entry.leases++;
    let released = false;
    return {
      get key() {
        if (released) throw new Error('key lease used after release');
        return entry.key;
      },
      release() {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.evicted && entry.leases === 0) zero(entry);
      },
    };
  }
}

function newEntry(key: Buffer, loadedAt: number): CacheEntry {
  return { key, loadedAt, uses: 0, leases: 0, evicted: false, zeroed: false };
}

function zero(entry: CacheEntry): void {
  entry.key.fill(0);
  entry.zeroed = true;
}
