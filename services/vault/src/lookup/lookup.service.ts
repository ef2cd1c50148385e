import { Injectable } from '@nestjs/common';
import { AuditEvent, type VaultLookupRequest } from '@veil/contracts';
import { blindIndex } from '@veil/platform/crypto';
import { inTenantTransaction, queryRows } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { ApiError } from '@veil/platform/service';
import { DataSource } from 'typeorm';

import { GrantChecker } from '../grants/grant-checker';
import { OrganizationKeyring } from '../keys/organization-keyring';

const MAX_MATCHES = 1000;

/**
 * Equality search over the blind indexes. A search reaches PII (even only as a match), so each one
 * is audited: who searched, which kind of value, the keyed-hash subject reference (the blind index,
 * never the value) and the inquiries found, committed in the transaction that searches.
 */
@Injectable()
export class LookupService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
    private readonly outbox: OutboxWriter,
    private readonly grants: GrantChecker,
  ) {}

  async lookup(request: VaultLookupRequest): Promise<string[]> {
    if (!this.grants.authorizes(request, 'inquiry:read')) {
      await this.dataSource.transaction((tx) =>
        this.outbox.enqueue(tx, AuditEvent, this.auditEvent(request, 'denied', undefined, []), {
          ordered: false,
        }),
      );
      throw new ApiError(
        403,
        'invalid_grant',
        'the access grant is missing, forged, expired or for another request',
      );
    }
    const indexKey = await this.keyring.indexKey(request.organizationId);
    let digest: string;
    try {
      digest = blindIndex(indexKey.key, request.kind, request.value);
    } finally {
      indexKey.release();
    }
    // One transaction: the event lists what was found, and nothing is answered unless it commits.
    return inTenantTransaction(this.dataSource, [request.organizationId], async (tx) => {
      const rows = await queryRows<{ inquiry_id: string }>(
        tx,
        `select inquiry_id from blind_indexes where organization_id = $1 and kind = $2 and digest = $3
          order by inquiry_id limit ${MAX_MATCHES}`,
        [request.organizationId, request.kind, digest],
      );
      const inquiryIds = rows.map((r) => r.inquiry_id);
      await this.outbox.enqueue(tx, AuditEvent, this.auditEvent(request, 'allowed', digest, inquiryIds), {
        ordered: false,
      });
      return inquiryIds;
    });
  }

  private auditEvent(
    request: VaultLookupRequest,
    outcome: 'allowed' | 'denied',
    subjectRef: string | undefined,
    inquiryIds: string[],
  ) {
    return {
      organizationId: request.organizationId,
      correlationId: request.requestId,
      data: {
        action: outcome === 'denied' ? 'vault.grant_rejected' : 'pii.lookup',
        actor: request.actor,
        outcome,
        targets: {
          attributes: [request.kind],
          ...(subjectRef ? { subjectRefs: [subjectRef] } : {}),
          inquiryIds,
        },
        purpose: `search by ${request.kind}`,
        requestId: request.requestId,
      },
    };
  }
}
