import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { type RequestOf, type ResponseOf, VaultApi } from '@veil/contracts';
import { ApiError, CallerGuard, parseBody, ServesOperation } from '@veil/platform/service';

import { VAULT_CONFIG, type VaultConfig } from '../config';
import { LookupService } from '../lookup/lookup.service';
import { RevealService } from '../reveal/reveal.service';
import { VaultStore } from '../vaulting/vault-store.service';

type Ops = typeof VaultApi.operations;
const { store, lookup, reveal, revealBatch } = VaultApi.operations;

/**
 * Service-to-service endpoints (the contract: `VaultApi` in libs/contracts). Each caller presents
 * its own credential and may use only its own operations; never exposed to customers.
 */
@Controller()
@UseGuards(CallerGuard)
export class InternalController {
  constructor(
    private readonly vaultStore: VaultStore,
    private readonly reveals: RevealService,
    private readonly lookups: LookupService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
  ) {}

  @Post(store.path)
  @ServesOperation(store)
  @HttpCode(200)
  async storeBatch(@Body() body: unknown): Promise<ResponseOf<Ops['store']>> {
    const request: RequestOf<Ops['store']> = parseBody(store.request, body);
    if (request.inquiries.length > this.config.VAULT_MAX_BATCH_INQUIRIES) {
      throw ApiError.badRequest(`at most ${this.config.VAULT_MAX_BATCH_INQUIRIES} inquiries per call`);
    }
    return { results: await this.vaultStore.store(request.inquiries) };
  }

  @Post(lookup.path)
  @ServesOperation(lookup)
  @HttpCode(200)
  async lookup(@Body() body: unknown): Promise<ResponseOf<Ops['lookup']>> {
    return { inquiryIds: await this.lookups.lookup(parseBody(lookup.request, body)) };
  }

  @Post(reveal.path)
  @ServesOperation(reveal)
  @HttpCode(200)
  async reveal(@Body() body: unknown): Promise<ResponseOf<Ops['reveal']>> {
    return { inquiries: await this.reveals.reveal(parseBody(reveal.request, body)) };
  }

  /** Several reveal requests in one call: one statement reads them all and writes each one's audit event. */
  @Post(revealBatch.path)
  @ServesOperation(revealBatch)
  @HttpCode(200)
  async revealBatch(@Body() body: unknown): Promise<ResponseOf<Ops['revealBatch']>> {
    const { requests } = parseBody(revealBatch.request, body);
    return { results: await this.reveals.revealMany(requests) };
  }
}
