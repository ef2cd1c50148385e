import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { ApiError, parseBody, ServiceTokenGuard } from '@veil/platform/service';

import { VAULT_CONFIG, type VaultConfig } from '../config';
import { RevealService, type RevealedInquiry, type RevealOutcome } from '../reveal/reveal.service';
import { VaultStore, type VaultedInquiry } from '../vaulting/vault-store.service';
import { LookupRequest, RevealBatchBody, RevealRequestBody, StoreRequest } from './internal-api';

/** Service-to-service endpoints; authenticated with the internal token, never exposed to customers. */
@Controller('internal/v1')
@UseGuards(ServiceTokenGuard)
export class InternalController {
  constructor(
    private readonly store: VaultStore,
    private readonly reveals: RevealService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
  ) {}

  /** Vaults a batch of inquiries (one call per consumed batch). Idempotent per inquiry. */
  @Post('inquiries/store')
  @HttpCode(200)
  async storeBatch(@Body() body: unknown): Promise<{ results: VaultedInquiry[] }> {
    const request = parseBody(StoreRequest, body);
    if (request.inquiries.length > this.config.VAULT_MAX_BATCH_INQUIRIES) {
      throw ApiError.badRequest(`at most ${this.config.VAULT_MAX_BATCH_INQUIRIES} inquiries per call`);
    }
    return { results: await this.store.store(request.inquiries) };
  }

  /** Finds inquiries by a searchable attribute through its blind index; the value is never stored. */
  @Post('inquiries/lookup')
  @HttpCode(200)
  async lookup(@Body() body: unknown): Promise<{ inquiryIds: string[] }> {
    const request = parseBody(LookupRequest, body);
    return {
      inquiryIds: await this.store.findByBlindIndex(request.organizationId, request.kind, request.value),
    };
  }

  @Post('inquiries/reveal')
  @HttpCode(200)
  async reveal(@Body() body: unknown): Promise<{ inquiries: RevealedInquiry[] }> {
    const request = parseBody(RevealRequestBody, body);
    return { inquiries: await this.reveals.reveal(request) };
  }

  /** Several reveal requests in one call: one statement reads them all and writes each one's audit event. */
  @Post('inquiries/reveal-batch')
  @HttpCode(200)
  async revealBatch(@Body() body: unknown): Promise<{ results: RevealOutcome[] }> {
    const { requests } = parseBody(RevealBatchBody, body);
    return { results: await this.reveals.revealMany(requests) };
  }
}
