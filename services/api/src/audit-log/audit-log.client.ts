import { Inject, Injectable } from '@nestjs/common';
import { AuditLogApi, type RequestOf, type ResponseOf } from '@veil/contracts';
import { ApiError, InternalCallError, postInternal } from '@veil/platform/service';

import { API_CONFIG, type ApiConfig } from '../config';

type Ops = typeof AuditLogApi.operations;
const { search, entryProof, checkpoints, consistency, publicKey, chainEntries } = AuditLogApi.operations;

/** Filters as the audit log's internal API takes them (the organization comes from the caller's key). */
type AuditSearch = Omit<RequestOf<Ops['search']>, 'organizationId'>;

/** Answers the audit log gives that the customer should see as they are (safe codes and messages). */
const PASSED_THROUGH = new Set([404, 409]);

/** The audit-log service's internal query API, always on behalf of one organization. */
@Injectable()
export class AuditLogClient {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  async search(organizationId: string, request: AuditSearch) {
    return (await this.call(search, { organizationId, ...request })).entries;
  }

  entryProof(organizationId: string, eventId: string, treeSize?: number) {
    return this.call(entryProof, {
      organizationId,
      eventId,
      ...(treeSize !== undefined ? { treeSize } : {}),
    });
  }

  async checkpoints(organizationId: string, chain: 'org' | 'operator', afterSize: number, limit: number) {
    return (await this.call(checkpoints, { organizationId, chain, afterSize, limit })).checkpoints;
  }

  consistency(organizationId: string, chain: 'org' | 'operator', from: number, to: number) {
    return this.call(consistency, { organizationId, chain, from, to });
  }

  publicKey() {
    return this.call(publicKey, {});
  }

  /** The organization's own chain in order, after `afterSeq` (for exports). */
  async chainEntries(organizationId: string, afterSeq: number, limit: number) {
    return (await this.call(chainEntries, { organizationId, afterSeq, limit })).entries;
  }

  private async call<O extends Ops[keyof Ops]>(operation: O, body: RequestOf<O>): Promise<ResponseOf<O>> {
    let answer;
    try {
      answer = await postInternal<ResponseOf<O> & { code?: string; message?: string }>(
        this.config.AUDIT_LOG_URL,
        operation.path,
        this.config.AUDIT_LOG_INTERNAL_TOKEN,
        body,
        this.config.AUDIT_LOG_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof InternalCallError) throw unavailable();
      throw error;
    }
    if (answer.status === 200 && answer.body) return answer.body;
    if (PASSED_THROUGH.has(answer.status) && answer.body?.code)
      throw new ApiError(answer.status, answer.body.code, answer.body.message ?? 'not available');
    if (answer.status >= 500) throw unavailable();
    throw new ApiError(502, 'audit_log_rejected', 'the audit log rejected the request');
  }
}

function unavailable(): ApiError {
  return ApiError.unavailable('audit_log_unavailable', 'the audit log is unavailable; retry later');
}
