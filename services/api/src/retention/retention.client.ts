import { Inject, Injectable } from '@nestjs/common';
import { type RequestOf, type ResponseOf, RetentionApi } from '@veil/contracts';
import { ApiError, InternalCallError, postInternal } from '@veil/platform/service';

import { API_CONFIG, type ApiConfig } from '../config';

type Ops = typeof RetentionApi.operations;

/** The retention service's internal API, always on behalf of one organization. */
@Injectable()
export class RetentionClient {
  constructor(@Inject(API_CONFIG) private readonly config: ApiConfig) {}

  getPolicy(organizationId: string) {
    return this.call(RetentionApi.operations.getPolicy, { organizationId });
  }

  putPolicy(request: RequestOf<Ops['putPolicy']>) {
    return this.call(RetentionApi.operations.putPolicy, request);
  }

  preview(organizationId: string, days: number) {
    return this.call(RetentionApi.operations.preview, { organizationId, days });
  }

  private async call<O extends Ops[keyof Ops]>(operation: O, body: RequestOf<O>): Promise<ResponseOf<O>> {
    let answer;
    try {
      answer = await postInternal<ResponseOf<O> & { code?: string; message?: string }>(
        this.config.RETENTION_URL,
        operation.path,
        this.config.RETENTION_INTERNAL_TOKEN,
        body,
        this.config.RETENTION_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof InternalCallError)
        throw ApiError.unavailable(
          'retention_unavailable',
          'the retention service is unavailable; retry later',
        );
      throw error;
    }
    if (answer.status === 200 && answer.body) return answer.body;
    if (answer.status >= 500)
      throw ApiError.unavailable(
        'retention_unavailable',
        'the retention service is unavailable; retry later',
      );
    throw new ApiError(502, 'retention_rejected', 'the retention service rejected the request');
  }
}
