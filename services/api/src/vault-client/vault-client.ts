import { Inject, Injectable } from '@nestjs/common';
import type { AuditEventV1, PiiAttribute } from '@veil/contracts';
import { ApiError, InternalCallError, postInternal } from '@veil/platform/service';

import { API_CONFIG, type ApiConfig } from '../config';
import { BatchingQueue } from './batching-queue';

export interface RevealedInquiry {
  inquiryId: string;
  found: boolean;
  redacted: boolean;
  attributes: Partial<Record<PiiAttribute, string | string[]>>;
}

export interface RevealRequest {
  organizationId: string;
  inquiryIds: string[];
  attributes: PiiAttribute[];
  purpose: string;
  actor: AuditEventV1['actor'];
  requestId: string;
}

type RevealOutcome =
  { ok: true; inquiries: RevealedInquiry[] } | { ok: false; error: { code: string; message: string } };

/**
 * The vault's internal API as the customer API uses it: audited reveals and blind-index lookups.
 * Concurrent reveals share vault calls (BatchingQueue); each is still its own audited request.
 */
@Injectable()
export class VaultClient {
  private readonly reveals: BatchingQueue<RevealRequest, RevealOutcome>;

  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {
    this.reveals = new BatchingQueue(
      async (requests) =>
        (await this.call<{ results: RevealOutcome[] }>('/internal/v1/inquiries/reveal-batch', { requests }))
          .results,
      { maxInFlight: config.VAULT_REVEAL_MAX_IN_FLIGHT, maxBatch: config.VAULT_REVEAL_MAX_BATCH },
    );
  }

  async reveal(request: RevealRequest): Promise<Map<string, RevealedInquiry>> {
    const outcome = await this.reveals.submit(request);
    if (!outcome.ok) throw integrityError();
    return new Map(outcome.inquiries.map((i) => [i.inquiryId, i]));
  }

  async lookupByReferenceId(organizationId: string, referenceId: string): Promise<string[]> {
    const body = await this.call<{ inquiryIds: string[] }>('/internal/v1/inquiries/lookup', {
      organizationId,
      kind: 'referenceId',
      value: referenceId,
    });
    return body.inquiryIds;
  }

  private async call<T>(path: string, body: unknown): Promise<T> {
    let answer;
    try {
      answer = await postInternal<T & { code?: string }>(
        this.config.VAULT_URL,
        path,
        this.config.VAULT_INTERNAL_TOKEN,
        body,
        this.config.VAULT_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof InternalCallError)
        throw ApiError.unavailable('vault_unavailable', 'the vault is unavailable; retry later');
      throw error;
    }
    if (answer.status === 200 && answer.body) return answer.body;
    if (answer.body?.code === 'ciphertext_integrity') throw integrityError();
    if (answer.status >= 500)
      throw ApiError.unavailable('vault_unavailable', 'the vault is unavailable; retry later');
    throw new ApiError(502, 'vault_rejected', 'the vault rejected the request');
  }
}

function integrityError(): ApiError {
  return new ApiError(
    500,
    'ciphertext_integrity',
    'stored data failed its integrity check; nothing was revealed',
  );
}
