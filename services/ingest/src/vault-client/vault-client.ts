import { Inject, Injectable } from '@nestjs/common';
import type { PiiAttribute } from '@veil/contracts';
import { PermanentError, TransientError } from '@veil/platform/kafka';

import { INGEST_CONFIG, type IngestConfig } from '../config';

export interface VaultStoreItem {
  organizationId: string;
  inquiryId: string;
  values: Partial<Record<PiiAttribute, string | string[]>>;
}

export interface VaultStoreResult {
  organizationId: string;
  inquiryId: string;
  tokens: Partial<Record<PiiAttribute, string>>;
  created: boolean;
}

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
    let response: Response;
    try {
      response = await fetch(new URL('/internal/v1/inquiries/store', this.config.VAULT_URL), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.config.VAULT_INTERNAL_TOKEN}`,
        },
        body: JSON.stringify({ inquiries }),
        signal: AbortSignal.timeout(this.config.VAULT_TIMEOUT_MS),
      });
    } catch (error) {
      throw new TransientError(`vault unreachable: ${(error as Error).name}`, error);
    }
    if (response.ok) {
      const body = (await response.json()) as { results: VaultStoreResult[] };
      return body.results;
    }
    const body = (await response.json().catch(() => ({}))) as { code?: string };
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new TransientError(`vault answered ${response.status} ${body.code ?? ''}`.trim());
    }
    throw new PermanentError(
      `vault_${body.code ?? response.status}`,
      `vault rejected the batch (${response.status})`,
    );
  }
}
