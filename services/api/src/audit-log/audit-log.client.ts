import { Inject, Injectable } from '@nestjs/common';
import { ApiError, InternalCallError, postInternal } from '@veil/platform/service';
import type { z } from 'zod';

import { API_CONFIG, type ApiConfig } from '../config';
import type * as S from '../http/api-schemas';

export type AuditEntry = z.infer<typeof S.AuditEntry>;
export type AuditCheckpoint = z.infer<typeof S.AuditCheckpoint>;
/** An exported entry: its bytes, or (past retention) its leaf hash only. */
export type ExportedEntry =
  { seq: number; entry: string; leafHash: string } | { seq: number; leafHash: string };

/** Filters as the audit log's internal API takes them (the organization comes from the caller's key). */
export interface AuditSearch {
  filters: {
    actorType?: string;
    actorId?: string;
    action?: string;
    outcome?: string;
    inquiryId?: string;
    subjectRef?: string;
    occurredFrom?: string;
    occurredTo?: string;
  };
  after?: { occurredAt: string; chain: string; seq: number };
  limit: number;
  includeProof: boolean;
}

/** Answers the audit log gives that the customer should see as they are (safe codes and messages). */
const PASSED_THROUGH = new Set([404, 409]);

/** The audit-log service's internal query API, always on behalf of one organization. */
@Injectable()
export class AuditLogClient {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  async search(organizationId: string, search: AuditSearch): Promise<AuditEntry[]> {
    return (await this.call<{ entries: AuditEntry[] }>('entries/search', { organizationId, ...search }))
      .entries;
  }

  entryProof(organizationId: string, eventId: string, treeSize?: number) {
    return this.call<z.infer<typeof S.AuditEntryProof>>('entries/proof', {
      organizationId,
      eventId,
      ...(treeSize !== undefined ? { treeSize } : {}),
    });
  }

  async checkpoints(
    organizationId: string,
    chain: 'org' | 'operator',
    afterSize: number,
    limit: number,
  ): Promise<AuditCheckpoint[]> {
    return (
      await this.call<{ checkpoints: AuditCheckpoint[] }>('checkpoints', {
        organizationId,
        chain,
        afterSize,
        limit,
      })
    ).checkpoints;
  }

  consistency(organizationId: string, chain: 'org' | 'operator', from: number, to: number) {
    return this.call<z.infer<typeof S.AuditConsistencyProof>>('consistency', {
      organizationId,
      chain,
      from,
      to,
    });
  }

  publicKey() {
    return this.call<z.infer<typeof S.AuditPublicKey>>('public-key', {});
  }

  /** The organization's own chain in order, after `afterSeq` (for exports). */
  async chainEntries(organizationId: string, afterSeq: number, limit: number): Promise<ExportedEntry[]> {
    return (
      await this.call<{ entries: ExportedEntry[] }>('chain-entries', {
        organizationId,
        afterSeq,
        limit,
      })
    ).entries;
  }

  private async call<T>(path: string, body: unknown): Promise<T> {
    let answer;
    try {
      answer = await postInternal<T & { code?: string; message?: string }>(
        this.config.AUDIT_LOG_URL,
        `/internal/v1/audit-log/${path}`,
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
