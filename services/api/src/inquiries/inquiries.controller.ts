import { Controller, Req } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { ApiError, requestIdOf } from '@veil/platform/service';
import type { Request } from 'express';

import { Endpoint, input } from '../http/endpoint';
import { ROUTES } from '../http/routes';
import { InquiriesService } from './inquiries.service';

@Controller()
export class InquiriesController {
  constructor(private readonly inquiries: InquiriesService) {}

  @Endpoint(ROUTES.listInquiries)
  list(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.listInquiries, req);
    return this.inquiries.list(principal, query, requestIdOf(req));
  }

  @Endpoint(ROUTES.getInquiry)
  get(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { params } = input(ROUTES.getInquiry, req);
    return this.inquiries.get(principal, params.inquiryId, requestIdOf(req));
  }

  @Endpoint(ROUTES.redactInquiry)
  async redact(@CurrentPrincipal() principal: Principal, @Req() req: Request): Promise<never> {
    const { params } = input(ROUTES.redactInquiry, req);
    await this.inquiries.assertExists(principal, params.inquiryId); // another organization's id: 404, like a missing one
    throw new ApiError(501, 'not_implemented', 'redaction through the API is not available yet');
  }
}
