import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { type RequestOf, type ResponseOf, VaultApi } from '@veil/contracts';
import { ApiError, CallerGuard, parseBody, ServesOperation } from '@veil/platform/service';

import { VAULT_CONFIG, type VaultConfig } from '../config';
import { LookupService } from '../lookup/lookup.service';
import { LedgerReconciler } from '../redaction/ledger-reconciler';
import { LegalHoldsService } from '../redaction/legal-holds.service';
import { RedactionStatusService } from '../redaction/redaction-status.service';
import { RevealService } from '../reveal/reveal.service';
import { VaultStore } from '../vaulting/vault-store.service';

type Ops = typeof VaultApi.operations;
const {
  store,
  lookup,
  reveal,
  revealBatch,
  subjectRef,
  redactionStatus,
  placeHold,
  listHolds,
  releaseHold,
  heldAmong,
} = VaultApi.operations;

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
    private readonly ledger: LedgerReconciler,
    private readonly redactions: RedactionStatusService,
    private readonly holds: LegalHoldsService,
    @Inject(VAULT_CONFIG) private readonly config: VaultConfig,
  ) {}

  @Post(store.path)
  @ServesOperation(store)
  @HttpCode(200)
  async storeBatch(@Body() body: unknown): Promise<ResponseOf<Ops['store']>> {
    const request: RequestOf<Ops['store']> = parseBody(store.request, body);
    this.ledger.assertReconciled();
    if (request.inquiries.length > this.config.VAULT_MAX_BATCH_INQUIRIES) {
      throw ApiError.badRequest(`at most ${this.config.VAULT_MAX_BATCH_INQUIRIES} inquiries per call`);
    }
    return { results: await this.vaultStore.store(request.inquiries) };
  }

  @Post(lookup.path)
  @ServesOperation(lookup)
  @HttpCode(200)
  async lookup(@Body() body: unknown): Promise<ResponseOf<Ops['lookup']>> {
    const request = parseBody(lookup.request, body);
    this.ledger.assertReconciled();
    return { inquiryIds: await this.lookups.lookup(request) };
  }

  @Post(reveal.path)
  @ServesOperation(reveal)
  @HttpCode(200)
  async reveal(@Body() body: unknown): Promise<ResponseOf<Ops['reveal']>> {
    const request = parseBody(reveal.request, body);
    this.ledger.assertReconciled();
    return { inquiries: await this.reveals.reveal(request) };
  }

  /** Several reveal requests in one call: one statement reads them all and writes each one's audit event. */
  @Post(revealBatch.path)
  @ServesOperation(revealBatch)
  @HttpCode(200)
  async revealBatch(@Body() body: unknown): Promise<ResponseOf<Ops['revealBatch']>> {
    const { requests } = parseBody(revealBatch.request, body);
    this.ledger.assertReconciled();
    return { results: await this.reveals.revealMany(requests) };
  }

  @Post(subjectRef.path)
  @ServesOperation(subjectRef)
  @HttpCode(200)
  async subjectRef(@Body() body: unknown): Promise<ResponseOf<Ops['subjectRef']>> {
    return { subjectRef: await this.redactions.subjectRef(parseBody(subjectRef.request, body)) };
  }

  @Post(redactionStatus.path)
  @ServesOperation(redactionStatus)
  @HttpCode(200)
  async redactionStatus(@Body() body: unknown): Promise<ResponseOf<Ops['redactionStatus']>> {
    return { redactions: await this.redactions.status(parseBody(redactionStatus.request, body)) };
  }

  @Post(placeHold.path)
  @ServesOperation(placeHold)
  @HttpCode(200)
  placeHold(@Body() body: unknown): Promise<ResponseOf<Ops['placeHold']>> {
    return this.holds.place(parseBody(placeHold.request, body));
  }

  @Post(listHolds.path)
  @ServesOperation(listHolds)
  @HttpCode(200)
  async listHolds(@Body() body: unknown): Promise<ResponseOf<Ops['listHolds']>> {
    return { holds: await this.holds.list(parseBody(listHolds.request, body)) };
  }

  @Post(releaseHold.path)
  @ServesOperation(releaseHold)
  @HttpCode(200)
  releaseHold(@Body() body: unknown): Promise<ResponseOf<Ops['releaseHold']>> {
    return this.holds.release(parseBody(releaseHold.request, body));
  }

  @Post(heldAmong.path)
  @ServesOperation(heldAmong)
  @HttpCode(200)
  async heldAmong(@Body() body: unknown): Promise<ResponseOf<Ops['heldAmong']>> {
    return { held: await this.holds.heldAmong(parseBody(heldAmong.request, body)) };
  }
}
