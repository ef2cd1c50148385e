import { Inject, Injectable } from '@nestjs/common';
import { type RequestOf, type ResponseOf, VaultApi } from '@veil/contracts';
import { PermanentError, TransientError } from '@veil/platform/kafka';
import { InternalCallError, postInternal } from '@veil/platform/service';

import { INGEST_CONFIG, type IngestConfig } from '../config';

type Store = typeof VaultApi.operations.store;
export type VaultStoreItem = RequestOf<Store>['inquiries'][number];
export type VaultStoreResult = ResponseOf<Store>['results'][number];

/**
 * The hand-off of PII to the vault: one authenticated call per consumed batch (ADR 0003). PII
 * travels only in this request body, never on a topic other than the intake topic. A vault that
 * is down, slow or waiting on KMS is a transient error (the batch waits and retries); a request
 * the vault rejects is permanent.
 */
@Injectable()
export class VaultClient {
  constructor(@Inject(INGEST_CONFIG) private readonly config: IngestConfig) {}

  async store(inquiries: VaultStoreItem[]): Promise<VaultStoreResult[]> {
    let answer: { status: number; body: { results?: VaultStoreResult[]; code?: string } | undefined };
    try {
      answer = await postInternal(
        this.config.VAULT_URL,
        VaultApi.operations.store.path,
        this.config.VAULT_TOKEN,
        { inquiries },
        this.config.VAULT_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof InternalCallError) throw new TransientError(error.message, error);
      throw error;
    }
    const { status, body } = answer;
    if (status === 200 && body?.results) return body.results;
    if (status >= 500 || status === 429 || status === 408)
      throw new TransientError(`vault answered ${status} ${body?.code ?? ''}`.trim());
    throw new PermanentError(`vault_${body?.code ?? status}`, `vault rejected the batch (${status})`);
  }
}
