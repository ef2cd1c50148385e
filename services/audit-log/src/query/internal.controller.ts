import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { type Checkpoint, type ConsistencyProof, type InclusionProof, OPERATOR_CHAIN } from '@veil/contracts';
import { ApiError, parseBody, ServiceTokenGuard } from '@veil/platform/service';
import { DataSource } from 'typeorm';

import { CheckpointStore } from '../checkpoints/checkpoint-store';
import { AuditQueryRepository, type ExportedEntry, type FoundEntry } from './audit-query.repository';
import {
  ChainEntriesRequest,
  CheckpointsRequest,
  ConsistencyRequest,
  EntryProofRequest,
  SearchRequest,
} from './internal-api';
import { ProofService } from './proof.service';

type WithProof = FoundEntry & { proof?: InclusionProof | null };

/** The chain an organization asks for: its own, or the shared operator chain. */
function chainOf(organizationId: string, which: 'org' | 'operator'): string {
  return which === 'operator' ? OPERATOR_CHAIN : `org:${organizationId}`;
}

/** Queries and proofs for the customer API; authenticated with the internal token. */
@Controller('internal/v1/audit-log')
@UseGuards(ServiceTokenGuard)
export class AuditLogInternalController {
  private readonly checkpoints: CheckpointStore;

  constructor(
    private readonly entries: AuditQueryRepository,
    private readonly proofs: ProofService,
    dataSource: DataSource,
  ) {
    this.checkpoints = new CheckpointStore(dataSource);
  }

  @Post('entries/search')
  @HttpCode(200)
  async search(@Body() body: unknown): Promise<{ entries: WithProof[] }> {
    const request = parseBody(SearchRequest, body);
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

  @Post('entries/proof')
  @HttpCode(200)
  async entryProof(@Body() body: unknown): Promise<{ entry: FoundEntry; proof: InclusionProof }> {
    const request = parseBody(EntryProofRequest, body);
    const entry = await this.entries.byEventId(request.organizationId, request.eventId);
    if (!entry) throw ApiError.notFound('no such audit entry');
    return { entry, proof: await this.proofs.inclusion(entry.chain, entry.seq, request.treeSize) };
  }

  @Post('checkpoints')
  @HttpCode(200)
  async listCheckpoints(@Body() body: unknown): Promise<{ checkpoints: Checkpoint[] }> {
    const request = parseBody(CheckpointsRequest, body);
    return {
      checkpoints: await this.checkpoints.list(chainOf(request.organizationId, request.chain), request),
    };
  }

  @Post('consistency')
  @HttpCode(200)
  async consistency(@Body() body: unknown): Promise<ConsistencyProof> {
    const request = parseBody(ConsistencyRequest, body);
    return this.proofs.consistency(chainOf(request.organizationId, request.chain), request.from, request.to);
  }

  @Post('chain-entries')
  @HttpCode(200)
  async chainEntries(@Body() body: unknown): Promise<{ entries: ExportedEntry[] }> {
    const request = parseBody(ChainEntriesRequest, body);
    return {
      entries: await this.entries.chainEntries(
        chainOf(request.organizationId, 'org'),
        request.afterSeq,
        request.limit,
      ),
    };
  }
}
