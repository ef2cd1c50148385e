import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';

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
    if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId)
      throw new KmsUnavailableError('KMS returned an incomplete data key');
    return {
      plaintext: Buffer.from(out.Plaintext),
      wrapped: Buffer.from(out.CiphertextBlob),
      kmsKeyId: out.KeyId,
    };
  }

  async decrypt(wrapped: Buffer, context: Record<string, string>): Promise<Buffer> {
    const out = await this.call(() =>
      this.client.send(new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: context })),
    );
    if (!out.Plaintext) throw new KmsUnavailableError('KMS returned no plaintext');
    return Buffer.from(out.Plaintext);
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

interface CacheEntry {
  key: Buffer;
  loadedAt: number;
  uses: number;
}

export interface KeyCacheOptions {
  maxAgeMs: number;
  maxUses: number;
  now?: () => number;
}

/**
 * Plaintext key-encryption keys in memory, each for at most `maxAgeMs` and `maxUses` uses, then
 * dropped (and zeroed) so the next use goes back to KMS. Concurrent misses for one key share a
 * single load.
 */
export class KeyCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  private readonly now: () => number;

  constructor(private readonly options: KeyCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Returns the key for `id`, loading it when absent, too old or used up; counts `uses` uses. */
  async use(id: string, load: () => Promise<Buffer>, uses = 1): Promise<Buffer> {
    let entry = this.entries.get(id);
    if (
      entry &&
      (this.now() - entry.loadedAt >= this.options.maxAgeMs || entry.uses + uses > this.options.maxUses)
    ) {
      this.evict(id);
      entry = undefined;
    }
    if (!entry) {
      let pending = this.loading.get(id);
      if (!pending) {
        pending = load().then((key) => ({ key, loadedAt: this.now(), uses: 0 }));
        this.loading.set(id, pending);
        pending.then(
          (loaded) => {
            this.loading.delete(id);
            this.entries.set(id, loaded);
          },
          () => this.loading.delete(id),
        );
      }
      entry = await pending;
    }
    entry.uses += uses;
    return entry.key;
  }

  /** Caches a key obtained another way (e.g. the plaintext half of a fresh GenerateDataKey). */
  put(id: string, key: Buffer): void {
    this.evict(id);
    this.entries.set(id, { key, loadedAt: this.now(), uses: 0 });
  }

  evict(id: string): void {
    const entry = this.entries.get(id);
    entry?.key.fill(0);
    this.entries.delete(id);
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.evict(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
