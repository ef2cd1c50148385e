import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type ResponseOf, RetentionApi } from '@veil/contracts';
import { CallerGuard, parseBody, ServesOperation } from '@veil/platform/service';

import { PolicyService } from '../policy/policy.service';
import { PreviewService } from '../schedule/preview.service';

type Ops = typeof RetentionApi.operations;
const { getPolicy, putPolicy, preview } = RetentionApi.operations;

/** Service-to-service endpoints (the contract: `RetentionApi` in libs/contracts); the customer API calls them. */
@Controller()
@UseGuards(CallerGuard)
export class InternalController {
  constructor(
    private readonly policies: PolicyService,
    private readonly previews: PreviewService,
  ) {}

  @Post(getPolicy.path)
  @ServesOperation(getPolicy)
  @HttpCode(200)
  getPolicy(@Body() body: unknown): Promise<ResponseOf<Ops['getPolicy']>> {
    return this.policies.get(parseBody(getPolicy.request, body).organizationId);
  }

  @Post(putPolicy.path)
  @ServesOperation(putPolicy)
  @HttpCode(200)
  putPolicy(@Body() body: unknown): Promise<ResponseOf<Ops['putPolicy']>> {
    return this.policies.put(parseBody(putPolicy.request, body));
  }

  @Post(preview.path)
  @ServesOperation(preview)
  @HttpCode(200)
  preview(@Body() body: unknown): Promise<ResponseOf<Ops['preview']>> {
    const request = parseBody(preview.request, body);
    return this.previews.preview(request.organizationId, request.days);
  }
}
