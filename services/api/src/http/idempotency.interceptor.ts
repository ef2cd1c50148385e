import { createHmac } from 'node:crypto';

import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Principal } from '@veil/platform/auth';
import { queryRows } from '@veil/platform/database';
import { ApiError, requestIdOf, toErrorResponse } from '@veil/platform/service';
import type { Request, Response } from 'express';
import { from, type Observable, of, switchMap } from 'rxjs';

import { TenantDb } from '../access/tenant-db';
import { API_CONFIG, type ApiConfig } from '../config';
import { IDEMPOTENCY_KEY_PATTERN } from './routes';

interface Stored {
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
}

const KEY_PATTERN = new RegExp(IDEMPOTENCY_KEY_PATTERN);

/**
 * Secrets are shown once and stored nowhere: a replay of a key creation returns the key without
 * its secret (`secret: null`).
 */
function withoutSecrets(body: unknown): unknown {
  return body && typeof body === 'object' && 'secret' in body ? { ...body, secret: null } : body;
}

/**
 * A keyed fingerprint of what the request asks for: method, path and body (keys sorted). Keyed,
 * because a body may hold personal data (a reference id to redact or hold): a plain hash of an
 * easily guessed value could be reversed by trying values.
 */
function requestHash(req: Request, key: Buffer): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value;
  return createHmac('sha256', key)
    .update(`${req.method} ${req.path}\n${JSON.stringify(canonical(req.body ?? null))}`)
    .digest('hex');
}

/**
 * `Idempotency-Key` on POST and DELETE: the first request's response (success or client error) is
 * stored per organization and key; a retry with the same request gets it again, a different
 * request with the same key gets 422, and one racing the first gets 409. Server errors are not
 * stored, so the client can retry them. Records expire after 24 hours.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly fingerprintKey: Buffer;

  constructor(
    private readonly tenants: TenantDb,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    // a key of its own, derived from a secret the api holds anyway
    this.fingerprintKey = createHmac('sha256', Buffer.from(config.VAULT_GRANT_KEY, 'base64'))
      .update('veil idempotency fingerprint v1')
      .digest();
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const res = context.switchToHttp().getResponse<Response>();
    const key = req.header('idempotency-key');
    if (key === undefined) return next.handle();
    if (!KEY_PATTERN.test(key))
      throw ApiError.badRequest('Idempotency-Key must be 1-255 visible ASCII characters', {
        fields: [{ path: 'header.Idempotency-Key', issue: 'invalid_format' }],
      });
    const organizationId = req.principal!.organizationId;
    const hash = requestHash(req, this.fingerprintKey);

    return from(this.claim(organizationId, key, req, hash)).pipe(
      switchMap((stored) => {
        if (stored) {
          if (stored.request_hash !== hash) {
            throw new ApiError(
              422,
              'idempotency_key_reused',
              'this Idempotency-Key was used for a different request',
            );
          }
          if (stored.status_code === null) {
            throw new ApiError(
              409,
              'idempotency_in_progress',
              'a request with this Idempotency-Key is still in progress',
            );
          }
          res.status(stored.status_code);
          res.setHeader('Idempotent-Replayed', 'true');
          return of(stored.response_body);
        }
        return from(this.run(next, organizationId, key, res, requestIdOf(req)));
      }),
    );
  }

  /** Inserts an in-progress record, or returns the existing one. */
  private claim(
    organizationId: string,
    key: string,
    req: Request,
    hash: string,
  ): Promise<Stored | undefined> {
    return this.tenants.forOrganization(organizationId, async (tx) => {
      await tx.query(
        `delete from idempotency_keys where organization_id = $1 and idempotency_key = $2 and created_at < now() - interval '24 hours'`,
        [organizationId, key],
      );
      const inserted = await queryRows<{ idempotency_key: string }>(
        tx,
        `insert into idempotency_keys (organization_id, idempotency_key, method, path, request_hash)
         values ($1, $2, $3, $4, $5) on conflict do nothing returning idempotency_key`,
        [organizationId, key, req.method, req.path, hash],
      );
      if (inserted.length > 0) return undefined;
      const [existing] = await queryRows<Stored>(
        tx,
        `select request_hash, status_code, response_body from idempotency_keys where organization_id = $1 and idempotency_key = $2`,
        [organizationId, key],
      );
      return existing;
    });
  }

  private async run(
    next: CallHandler,
    organizationId: string,
    key: string,
    res: Response,
    requestId: string,
  ): Promise<unknown> {
    const save = (status: number, body: unknown) =>
      this.tenants.forOrganization(organizationId, (tx) =>
        tx.query(
          `update idempotency_keys set status_code = $3, response_body = $4 where organization_id = $1 and idempotency_key = $2`,
          [organizationId, key, status, JSON.stringify(body ?? null)],
        ),
      );
    try {
      const body = await new Promise<unknown>((resolve, reject) =>
        next.handle().subscribe({ next: resolve, error: reject }),
      );
      await save(res.statusCode, withoutSecrets(body));
      return body;
    } catch (error) {
      const { status, body } = toErrorResponse(error, requestId);
      if (status < 500) await save(status, body);
      else {
        await this.tenants.forOrganization(organizationId, (tx) =>
          tx.query(`delete from idempotency_keys where organization_id = $1 and idempotency_key = $2`, [
            organizationId,
            key,
          ]),
        );
      }
      throw error;
    }
  }
}
