import { Controller, Req, Res } from '@nestjs/common';
import { Timestamp } from '@veil/contracts';
import { CurrentPrincipal, type Principal } from '@veil/platform/auth';
import { ApiError } from '@veil/platform/service';
import type { Request, Response } from 'express';
import type { z } from 'zod';

import type * as S from '../http/api-schemas';
import { Endpoint, input } from '../http/endpoint';
import { ROUTES } from '../http/routes';
import { AuditLogClient } from './audit-log.client';

type AuditEntry = z.infer<typeof S.AuditEntry>;

const EXPORT_PAGE = 5_000;
/** The chains a cursor can name: the operator chain or an organization's (`org:<organization id>`). */
const CHAIN = /^(?:operator|org:[A-Za-z0-9][A-Za-z0-9_.:-]{0,127})$/;

/**
 * The audit log as customers read it: their organization's entries (never another's), proofs
 * against signed checkpoints, and an export for the standalone verifier.
 */
@Controller()
export class AuditLogController {
  constructor(private readonly auditLog: AuditLogClient) {}

  @Endpoint(ROUTES.listAuditEntries)
  async list(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
  ): Promise<{ data: AuditEntry[]; nextCursor: string | null }> {
    const { query } = input(ROUTES.listAuditEntries, req);
    const found = await this.auditLog.search(principal.organizationId, {
      filters: {
        ...(query.actorType ? { actorType: query.actorType } : {}),
        ...(query.actorId ? { actorId: query.actorId } : {}),
        ...(query.action ? { action: query.action } : {}),
        ...(query.outcome ? { outcome: query.outcome } : {}),
        ...(query.inquiryId ? { inquiryId: query.inquiryId } : {}),
        ...(query.subjectRef ? { subjectRef: query.subjectRef } : {}),
        ...(query.occurredAfter ? { occurredFrom: query.occurredAfter } : {}),
        ...(query.occurredBefore ? { occurredTo: query.occurredBefore } : {}),
      },
      ...(query.cursor ? { after: decodeCursor(query.cursor) } : {}),
      limit: query.pageSize + 1,
      includeProof: query.includeProof,
    });
    const data = found.slice(0, query.pageSize);
    const last = data[data.length - 1];
    return { data, nextCursor: found.length > query.pageSize && last ? encodeCursor(last) : null };
  }

  @Endpoint(ROUTES.getAuditEntryProof)
  proof(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { params, query } = input(ROUTES.getAuditEntryProof, req);
    return this.auditLog.entryProof(principal.organizationId, params.eventId, query.treeSize);
  }

  @Endpoint(ROUTES.listAuditCheckpoints)
  async checkpoints(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.listAuditCheckpoints, req);
    const data = await this.auditLog.checkpoints(
      principal.organizationId,
      query.chain,
      query.afterSize,
      query.pageSize,
    );
    return {
      data,
      nextAfterSize: data.length === query.pageSize ? data[data.length - 1]!.treeSize : null,
    };
  }

  @Endpoint(ROUTES.getAuditConsistencyProof)
  consistency(@CurrentPrincipal() principal: Principal, @Req() req: Request) {
    const { query } = input(ROUTES.getAuditConsistencyProof, req);
    if (query.from > query.to) {
      throw ApiError.badRequest('from must not be larger than to', {
        fields: [{ path: 'query.from', issue: 'too_big' }],
      });
    }
    return this.auditLog.consistency(principal.organizationId, query.chain, query.from, query.to);
  }

  @Endpoint(ROUTES.getAuditPublicKey)
  publicKey() {
    return this.auditLog.publicKey();
  }

  /** Streams the organization's chain as JSON lines: every signed checkpoint, then every entry. */
  @Endpoint(ROUTES.exportAuditLog)
  async export(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    input(ROUTES.exportAuditLog, req);
    const org = principal.organizationId;
    // the first page is read before any byte is sent, so a failure there is a clean error answer
    let checkpoints = await this.auditLog.checkpoints(org, 'org', 0, 1_000);
    res.status(200);
    res.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('content-disposition', `attachment; filename="audit-log-${org}.jsonl"`);
    try {
      while (checkpoints.length > 0) {
        await write(
          res,
          checkpoints.map((checkpoint) => JSON.stringify({ checkpoint })),
        );
        if (checkpoints.length < 1_000) break;
        checkpoints = await this.auditLog.checkpoints(
          org,
          'org',
          checkpoints[checkpoints.length - 1]!.treeSize,
          1_000,
        );
      }
      for (let after = -1; ;) {
        const entries = await this.auditLog.chainEntries(org, after, EXPORT_PAGE);
        await write(
          res,
          entries.map((e) => JSON.stringify(e)),
        );
        if (entries.length < EXPORT_PAGE) break;
        after = entries[entries.length - 1]!.seq;
      }
      res.end();
    } catch {
      // headers are gone: cut the stream so the client sees an incomplete download, not a short log
      res.destroy();
    }
  }
}

function write(res: Response, lines: string[]): Promise<void> {
  if (lines.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) =>
    res.write(`${lines.join('\n')}\n`, (error) => (error ? reject(error) : resolve())),
  );
}

function encodeCursor(entry: AuditEntry): string {
  return Buffer.from(JSON.stringify([entry.occurredAt, entry.chain, entry.seq])).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: string; chain: string; seq: number } {
  try {
    const [occurredAt, chain, seq] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof occurredAt === 'string' &&
      Timestamp.safeParse(occurredAt).success &&
      typeof chain === 'string' &&
      CHAIN.test(chain) &&
      Number.isSafeInteger(seq) &&
      (seq as number) >= 0
    ) {
      return { occurredAt, chain, seq: seq as number };
    }
  } catch {
    // fall through
  }
  throw ApiError.badRequest('invalid cursor', { fields: [{ path: 'query.cursor', issue: 'invalid' }] });
}
