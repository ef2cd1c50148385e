import { Inject, Injectable } from '@nestjs/common';
import {
  type LegalHold,
  type RedactionProgress,
  type RequestOf,
  type ResponseOf,
  type RevealedInquiry,
  type RevealFailureCode,
  type RevealOutcome,
  type VaultRevealRequest,
  VaultApi,
} from '@veil/contracts';
import type { Principal } from '@veil/platform/auth';
import { ApiError, InternalCallError, postInternal } from '@veil/platform/service';

import { API_CONFIG, type ApiConfig } from '../config';
import { BatchingQueue } from './batching-queue';

export type { RevealedInquiry };

/** A reveal on behalf of the authenticated key: organization, actor and grant come from the principal. */
export interface RevealRequest {
  principal: Principal;
  inquiryIds: string[];
  attributes: VaultRevealRequest['attributes'];
  purpose: string;
  requestId: string;
}

type Ops = typeof VaultApi.operations;
/** The vault operations the api is a caller of. */
type Operation = Ops[
  | 'lookup'
  | 'reveal'
  | 'revealBatch'
  | 'subjectRef'
  | 'redactionStatus'
  | 'placeHold'
  | 'listHolds'
  | 'releaseHold'];
const { lookup, revealBatch, subjectRef, redactionStatus, placeHold, listHolds, releaseHold } =
  VaultApi.operations;

/**
 * The vault's internal API as the customer API uses it: audited reveals and blind-index lookups,
 * each carrying the access grant the key guard minted for the request. Concurrent reveals share
 * vault calls (BatchingQueue); each is still its own authorized and audited request.
 */
@Injectable()
export class VaultClient {
  private readonly reveals: BatchingQueue<VaultRevealRequest, RevealOutcome>;

  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {
    this.reveals = new BatchingQueue(
      async (requests) => (await this.call(revealBatch, { requests })).results,
      { maxInFlight: config.VAULT_REVEAL_MAX_IN_FLIGHT, maxBatch: config.VAULT_REVEAL_MAX_BATCH },
    );
  }

  async reveal(request: RevealRequest): Promise<Map<string, RevealedInquiry>> {
    const { principal, ...rest } = request;
    const outcome = await this.reveals.submit({
      ...rest,
      organizationId: principal.organizationId,
      actor: { type: 'api_key', id: principal.keyId },
      grant: grantOf(principal),
    });
    if (!outcome.ok) throw failure(outcome.error.code);
    return new Map(outcome.inquiries.map((i) => [i.inquiryId, i]));
  }

  async lookupByReferenceId(principal: Principal, referenceId: string, requestId: string): Promise<string[]> {
    const body = await this.call(lookup, {
      organizationId: principal.organizationId,
      kind: 'referenceId',
      value: referenceId,
      actor: { type: 'api_key', id: principal.keyId },
      requestId,
      grant: grantOf(principal),
    });
    return body.inquiryIds;
  }

  /** The blind index of a reference id, which a subject redaction names instead of the value. */
  async subjectRef(principal: Principal, referenceId: string, requestId: string): Promise<string> {
    const body = await this.call(subjectRef, {
      ...this.granted(principal, requestId),
      kind: 'referenceId',
      value: referenceId,
    });
    return body.subjectRef;
  }

  /** Progress of the organization's redactions the vault has received. */
  async redactionStatus(
    principal: Principal,
    redactionIds: string[],
    requestId: string,
  ): Promise<Map<string, RedactionProgress>> {
    if (redactionIds.length === 0) return new Map();
    const body = await this.call(redactionStatus, { ...this.granted(principal, requestId), redactionIds });
    return new Map(body.redactions.map((r) => [r.redactionId, r]));
  }

  placeHold(
    principal: Principal,
    requestId: string,
    hold: Pick<RequestOf<Ops['placeHold']>, 'target' | 'basis' | 'expiresAt'>,
  ): Promise<LegalHold> {
    return this.call(placeHold, { ...this.granted(principal, requestId), ...hold });
  }

  async listHolds(principal: Principal, requestId: string, includeReleased: boolean): Promise<LegalHold[]> {
    return (await this.call(listHolds, { ...this.granted(principal, requestId), includeReleased })).holds;
  }

  releaseHold(principal: Principal, requestId: string, holdId: string): Promise<LegalHold> {
    return this.call(releaseHold, { ...this.granted(principal, requestId), holdId });
  }

  private granted(principal: Principal, requestId: string) {
    return {
      organizationId: principal.organizationId,
      actor: { type: 'api_key' as const, id: principal.keyId },
      requestId,
      grant: grantOf(principal),
    };
  }

  private async call<O extends Operation>(operation: O, body: RequestOf<O>): Promise<ResponseOf<O>> {
    let answer;
    try {
      answer = await postInternal<ResponseOf<O> & { code?: string }>(
        this.config.VAULT_URL,
        operation.path,
        this.config.VAULT_TOKEN,
        body,
        this.config.VAULT_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof InternalCallError) throw failure('vault_unavailable');
      throw error;
    }
    if (answer.status === 200 && answer.body) return answer.body;
    if (answer.body?.code === 'ciphertext_integrity') throw failure('ciphertext_integrity');
    // an unknown hold of the organization: the customer's to see, like any missing id
    if (answer.status === 404 && operation.path === releaseHold.path)
      throw ApiError.notFound('no such legal hold');
    if (answer.status >= 500) throw failure('vault_unavailable');
    throw new ApiError(502, 'vault_rejected', 'the vault rejected the request');
  }
}

function grantOf(principal: Principal): string {
  if (!principal.grant) throw new Error('no access grant: the route is missing ApiKeyGuard');
  return principal.grant;
}

/** What a customer sees of a vault failure: never the vault's internals. */
function failure(code: RevealFailureCode): ApiError {
  switch (code) {
    case 'ciphertext_integrity':
      return new ApiError(
        500,
        'ciphertext_integrity',
        'stored data failed its integrity check; nothing was revealed',
      );
    case 'vault_unavailable':
      return ApiError.unavailable('vault_unavailable', 'the vault is unavailable; retry later');
    case 'invalid_grant':
      // The api minted that grant itself: a refusal means a misconfiguration (keys differ), not the customer.
      return new ApiError(502, 'vault_rejected', 'the vault rejected the request');
    case 'reveal_failed':
      return new ApiError(500, 'reveal_failed', 'the reveal failed; nothing was revealed');
  }
}
