import { Controller, Req } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { requestIdOf } from '@veil/platform/service';
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
}
