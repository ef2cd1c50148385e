import { Injectable } from '@nestjs/common';
import {
  AuditEvent,
  type RedactionProgress,
  type VaultRedactionStatusRequest,
  type VaultSubjectRefRequest,
} from '@veil/contracts';
import type { Scope } from '@veil/platform/auth';
import { blindIndex } from '@veil/platform/crypto';
import { inTenantTransaction } from '@veil/platform/database';
import { OutboxWriter } from '@veil/platform/kafka';
import { ApiError } from '@veil/platform/service';
import { DataSource } from 'typeorm';

import { type GrantedRequest, GrantChecker } from '../grants/grant-checker';
import { OrganizationKeyring } from '../keys/organization-keyring';
import { RedactionService } from './redaction.service';

/** The customer API's questions about redactions, each vouched for by an access grant. */
@Injectable()
export class RedactionStatusService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyring: OrganizationKeyring,
    private readonly grants: GrantChecker,
    private readonly outbox: OutboxWriter,
    private readonly redactions: RedactionService,
  ) {}

  /** The blind index a subject redaction names: computed here, where the index key lives. */
  async subjectRef(request: VaultSubjectRefRequest): Promise<string> {
    await this.authorize(request, 'inquiry:redact');
    const indexKey = await this.keyring.indexKey(request.organizationId);
    try {
      return blindIndex(indexKey.key, request.kind, request.value);
    } finally {
      indexKey.release();
    }
  }

  async status(request: VaultRedactionStatusRequest): Promise<RedactionProgress[]> {
    await this.authorize(request, ['inquiry:read', 'inquiry:redact']);
    return inTenantTransaction(this.dataSource, [request.organizationId], (tx) =>
      this.redactions.progress(tx, request.organizationId, request.redactionIds),
    );
  }

  private async authorize(request: GrantedRequest, scope: Scope | Scope[]): Promise<void> {
    if (this.grants.authorizes(request, scope)) return;
    await this.dataSource.transaction((tx) =>
      this.outbox.enqueue(
        tx,
        AuditEvent,
        {
          organizationId: request.organizationId,
          correlationId: request.requestId,
          data: {
            action: 'vault.grant_rejected',
            actor: request.actor,
            outcome: 'denied',
            targets: {},
            purpose: 'redaction request or status',
            requestId: request.requestId,
          },
        },
        { ordered: false },
      ),
    );
    throw new ApiError(
      403,
      'invalid_grant',
      'the access grant is missing, forged, expired or for another request',
    );
  }
}
