import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { AuditLogApi, OPERATOR_CHAIN, type ResponseOf } from '@veil/contracts';
import { ApiError, CallerGuard, parseBody, ServesOperation } from '@veil/platform/service';
import { DataSource } from 'typeorm';

import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { AuditQueryRepository } from './audit-query.repository';
import { ProofService } from './proof.service';

type Ops = typeof AuditLogApi.operations;
const { search, entryProof, checkpoints, consistency, chainEntries } = AuditLogApi.operations;

/** The chain an organization asks for: its own, or the shared operator chain. */
function chainOf(organizationId: string, which: 'org' | 'operator'): string {
  return which === 'operator' ? OPERATOR_CHAIN : `org:${organizationId}`;
}

/** Queries and proofs for the customer API (the contract: `AuditLogApi` in libs/contracts). */
@Controller()
@UseGuards(CallerGuard)
export class AuditLogInternalController {
  private readonly checkpoints: CheckpointStore;

  constructor(
    private readonly entries: AuditQueryRepository,
    private readonly proofs: ProofService,
    dataSource: DataSource,
  ) {
    this.checkpoints = new CheckpointStore(dataSource);
  }

  @Post(search.path)
  @ServesOperation(search)
  @HttpCode(200)
  async search(@Body() body: unknown): Promise<ResponseOf<Ops['search']>> {
    const request = parseBody(search.request, body);
    const found = await this.entries.search(request);
    if (!request.includeProof) return { entries: found };
    // each entry is proven against its chain's newest checkpoint; null while none covers it yet
    const chains = [...new Set(found.map((e) => e.chain))];
    const latest = new Map(
      await Promise.all(chains.map(async (c) => [c, await this.proofs.latestCheckpoint(c)] as const)),
    );
    return {
      entries: await Promise.all(
        found.map(async (e) => {
          const checkpoint = latest.get(e.chain);
          return {
            ...e,
            proof:
              checkpoint && e.seq < checkpoint.treeSize
                ? await this.proofs.inclusionIn(checkpoint, e.seq)
                : null,
          };
        }),
      ),
    };
  }

  @Post(entryProof.path)
  @ServesOperation(entryProof)
  @HttpCode(200)
  async entryProof(@Body() body: unknown): Promise<ResponseOf<Ops['entryProof']>> {
    const request = parseBody(entryProof.request, body);
    const entry = await this.entries.byEventId(request.organizationId, request.eventId);
    if (!entry) throw ApiError.notFound('no such audit entry');
    return { entry, proof: await this.proofs.inclusion(entry.chain, entry.seq, request.treeSize) };
  }

  @Post(checkpoints.path)
  @ServesOperation(checkpoints)
  @HttpCode(200)
  async listCheckpoints(@Body() body: unknown): Promise<ResponseOf<Ops['checkpoints']>> {
    const request = parseBody(checkpoints.request, body);
    return {
      checkpoints: await this.checkpoints.list(chainOf(request.organizationId, request.chain), request),
    };
  }

  @Post(consistency.path)
  @ServesOperation(consistency)
  @HttpCode(200)
  async consistency(@Body() body: unknown): Promise<ResponseOf<Ops['consistency']>> {
    const request = parseBody(consistency.request, body);
    return this.proofs.consistency(chainOf(request.organizationId, request.chain), request.from, request.to);
  }

  @Post(chainEntries.path)
  @ServesOperation(chainEntries)
  @HttpCode(200)
  async chainEntries(@Body() body: unknown): Promise<ResponseOf<Ops['chainEntries']>> {
    const request = parseBody(chainEntries.request, body);
    return {
      entries: await this.entries.chainEntries(
        chainOf(request.organizationId, 'org'),
        request.afterSeq,
        request.limit,
      ),
    };
  }
}
