import { Controller, Req } from '@nestjs/common';
import { CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { requestIdOf } from '@veil/platform/service';
import type { Request } from 'express';

import { Endpoint, input } from '../http/endpoint';
import { ROUTES } from '../http/routes';
import { RedactionsService } from './redactions.service';

@Controller()
export class RedactionsController {
  constructor(private readonly redactions: RedactionsService) {}

  @Endpoint(ROUTES.redactInquiry)
  redactInquiry(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { params } = input(ROUTES.redactInquiry, req);
    return this.redactions.redactInquiry(principal, params.inquiryId, requestIdOf(req));
  }

  @Endpoint(ROUTES.createRedaction)
  create(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { body } = input(ROUTES.createRedaction, req);
    return this.redactions.redactSubject(principal, body.referenceId, requestIdOf(req));
  }

  @Endpoint(ROUTES.listRedactions)
  list(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.listRedactions, req);
    return this.redactions.list(principal, query, requestIdOf(req));
  }

  @Endpoint(ROUTES.getRedaction)
  get(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { params } = input(ROUTES.getRedaction, req);
    return this.redactions.get(principal, params.redactionId, requestIdOf(req));
  }
}
