import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  AuditEvent,
  type AuditEventV1,
  type PiiAttribute,
  type RevealedInquiry,
  type RevealFailureCode,
  type RevealOutcome,
  type VaultRevealRequest,
} from '@veil/contracts';
import { decryptField, IntegrityError, KmsUnavailableError, unwrapDataKey } from '@veil/platform/crypto';
import { queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { MetricsService } from '@veil/platform/observability';
import { ApiError } from '@veil/platform/service';
import { Histogram } from 'prom-client';
import { DataSource } from 'typeorm';

import { GrantChecker } from '../grants/grant-checker';
import { OrganizationKeyring } from '../keys/organization-keyring';
import { unpackFields } from '../vaulting/field-bundle';

const LIST_ATTRIBUTES = new Set<PiiAttribute>(['documentFiles', 'selfieFiles']);

interface Row {
  organization_id: string;
  inquiry_id: string;
  data_key_version: number;
  kek_version: number;
  wrapped_key: Buffer | null;
  bundle: Buffer | null;
  fields_key_version: number | null;
}

const FAILURES: Record<RevealFailureCode, { status: number; message: string }> = {
  ciphertext_integrity: {
    status: 500,
    message: 'stored data failed its integrity check; nothing was revealed',
  },
  invalid_grant: {
    status: 403,
    message: 'the access grant is missing, forged, expired or for another request',
  },
  reveal_failed: { status: 500, message: 'the reveal failed; nothing was revealed' },
  vault_unavailable: { status: 503, message: 'the vault cannot reach its keys; retry later' },
};

/** One request's failure: it reveals nothing, and the other requests of its batch go on. */
class RevealFailure extends Error {
  constructor(readonly code: RevealFailureCode) {
    super(FAILURES[code].message);
  }
}

/**
 * Purpose-bound, audited decryption. Each request carries an access grant signed by the customer
 * API: the organization, actor and request id it audits are the grant's. Each request's audit
 * event is written to the outbox by the very statement that reads the ciphertexts (invariant 6):
 * if it cannot be recorded, nothing is read. Concurrent requests (possibly of different
 * organizations) share that one statement, each with its own audit event, and each fails on its
 * own: a forged grant, a ciphertext that fails authentication or a malformed stored value answers
 * that request alone, and is audited as a second event.
 */
@Injectable()
export class RevealService {
  private readonly logger = new Logger('RevealService');
  private readonly batchSizes: Histogram;

  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
    private readonly outbox: OutboxWriter,
    @Inject(GrantChecker) private readonly grants: GrantChecker,
    metrics: MetricsService,
  ) {
    this.batchSizes = new Histogram({
      name: 'veil_reveal_batch_requests',
      help: 'Reveal requests answered by one statement (concurrent customer calls coalesce).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [metrics.registry],
    });
  }

  async reveal(request: VaultRevealRequest): Promise<RevealedInquiry[]> {
    const [outcome] = await this.revealMany([request]);
    if (!outcome!.ok) {
      const failure = FAILURES[outcome!.error.code];
      throw new ApiError(failure.status, outcome!.error.code, failure.message);
    }
    return outcome!.inquiries;
  }

  async revealMany(requests: VaultRevealRequest[]): Promise<RevealOutcome[]> {
    this.batchSizes.observe(requests.length);
    const authorized = requests.map((request) => this.grants.authorizes(request, 'pii:reveal'));
    const granted = requests.filter((_, i) => authorized[i]);
    const rows = granted.length > 0 ? await this.readAudited(granted) : [];
    const failed: { request: VaultRevealRequest; code: RevealFailureCode }[] = [];
    const outcomes: RevealOutcome[] = [];
    for (const [i, request] of requests.entries()) {
      try {
        if (!authorized[i]) throw new RevealFailure('invalid_grant');
        outcomes.push({ ok: true, inquiries: await this.decrypt(request, rows) });
      } catch (error) {
        const code = failureCode(error);
        failed.push({ request, code });
        outcomes.push({ ok: false, error: { code, message: FAILURES[code].message } });
        // Only the error's class: a message could quote decrypted bytes.
        this.logger.error({
          msg: 'reveal request failed',
          code,
          organizationId: request.organizationId,
          error: (error as Error | undefined)?.name,
        });
      }
    }
    if (failed.length > 0) {
      await this.dataSource.transaction((tx) =>
        this.outbox.enqueueMany(
          tx,
          AuditEvent,
          failed.map(({ request, code }) =>
            this.auditEvent(
              request,
              code === 'invalid_grant'
                ? 'vault.grant_rejected'
                : code === 'ciphertext_integrity'
                  ? 'pii.integrity_failure'
                  : 'pii.reveal_failed',
              code === 'invalid_grant' ? 'denied' : 'failed',
            ),
          ),
          { ordered: false }, // concurrent reveals of one organization need not wait for each other
        ),
      );
    }
    return outcomes;
  }

  /** Reads the ciphertexts of every request and writes their audit events in one statement. */
  private readAudited(requests: VaultRevealRequest[]): Promise<Row[]> {
    const audit = this.outbox.prepare(
      AuditEvent,
      requests.map((request) => this.auditEvent(request, 'pii.reveal', 'allowed')),
      3,
    );
    const pairs = requests.flatMap((r) => r.inquiryIds.map((id) => [r.organizationId, id] as const));
    // reveal_rows (vault migration TenantRows) confines the read to the batch's organizations by
    // row-level security, in this same statement.
    return queryRows<Row>(
      this.dataSource,
      `with audit as (${audit.sql}) select * from reveal_rows($1::text[], $2::text[])`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1]), ...audit.params],
    );
  }

  private async decrypt(request: VaultRevealRequest, rows: Row[]): Promise<RevealedInquiry[]> {
    const { organizationId } = request;
    const results = new Map<string, RevealedInquiry>(
      request.inquiryIds.map((id) => [id, { inquiryId: id, found: false, redacted: false, attributes: {} }]),
    );
    for (const row of rows) {
      if (row.organization_id !== organizationId) continue;
      const result = results.get(row.inquiry_id);
      if (!result) continue;
      result.found = true;
      if (!row.wrapped_key) {
        result.redacted = true;
        continue;
      }
      if (!row.bundle) continue;
      let fields: Map<string, Buffer>;
      try {
        fields = unpackFields(row.bundle);
      } catch {
        throw new IntegrityError('malformed ciphertext bundle');
      }
      const kek = await this.keyring.keyByVersion(organizationId, 'kek', row.kek_version);
      let dataKey: Buffer;
      try {
        dataKey = unwrapDataKey(kek.key, row.wrapped_key, {
          organizationId,
          inquiryId: row.inquiry_id,
          dataKeyVersion: row.data_key_version,
          kekVersion: row.kek_version,
        });
      } finally {
        kek.release();
      }
      try {
        for (const attribute of request.attributes) {
          const ciphertext = fields.get(attribute);
          if (!ciphertext) continue;
          const plaintext = decryptField(dataKey, ciphertext, {
            organizationId,
            inquiryId: row.inquiry_id,
            attribute,
            dataKeyVersion: row.fields_key_version ?? row.data_key_version,
          });
          result.attributes[attribute] = LIST_ATTRIBUTES.has(attribute) ? parseList(plaintext) : plaintext;
        }
      } finally {
        dataKey.fill(0);
      }
    }
    return [...results.values()];
  }

  private auditEvent(request: VaultRevealRequest, action: string, outcome: AuditEventV1['outcome']) {
    return {
      organizationId: request.organizationId,
      correlationId: request.requestId,
      data: {
        action,
        actor: request.actor,
        outcome,
        targets: { inquiryIds: request.inquiryIds, attributes: request.attributes },
        purpose: request.purpose,
        requestId: request.requestId,
      },
    };
  }
}

/** A stored list (file references). Never lets the parser's message, which quotes its input, escape. */
function parseList(plaintext: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext);
  } catch {
    throw new RevealFailure('reveal_failed');
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string'))
    throw new RevealFailure('reveal_failed');
  return parsed;
}

function failureCode(error: unknown): RevealFailureCode {
  if (error instanceof RevealFailure) return error.code;
  if (error instanceof IntegrityError) return 'ciphertext_integrity';
  if (error instanceof KmsUnavailableError) return 'vault_unavailable';
  return 'reveal_failed';
}
