import { randomBytes } from 'node:crypto';

import { VaultApi } from '@veil/contracts';
import { grantKey, type Scope, signGrant } from '@veil/platform/auth';

import type { ServiceProcess } from './process';

export interface TestRevealRequest {
  organizationId: string;
  inquiryIds: string[];
  attributes: string[];
  purpose: string;
  /** The API key the access is attributed to (default: a test key). */
  keyId?: string;
  requestId?: string;
}

/**
 * The vault's internal API called the way its real callers do: ingest's credential for stores; the
 * api's credential plus a grant signed with the grant key (as the api's key guard mints it) for
 * reveals and lookups. Tests that probe the edges build their own requests.
 */
export class VaultCaller {
  constructor(readonly vault: ServiceProcess) {}

  get ingestToken(): string {
    return this.vault.env.VAULT_TOKEN_INGEST!;
  }

  get apiToken(): string {
    return this.vault.env.VAULT_TOKEN_API!;
  }

  grant(
    organizationId: string,
    keyId: string,
    requestId: string,
    scopes: Scope[] = ['pii:reveal', 'inquiry:read'],
  ) {
    return signGrant(grantKey(this.vault.env.VAULT_GRANT_KEY!), {
      organizationId,
      keyId,
      requestId,
      scopes,
      expiresAt: Date.now() + 60_000,
    });
  }

  /** A complete reveal request body, granted. */
  revealBody(request: TestRevealRequest) {
    const keyId = request.keyId ?? 'key_test';
    const requestId = request.requestId ?? `req_${randomBytes(8).toString('hex')}`;
    return {
      organizationId: request.organizationId,
      inquiryIds: request.inquiryIds,
      attributes: request.attributes,
      purpose: request.purpose,
      actor: { type: 'api_key', id: keyId },
      requestId,
      grant: this.grant(request.organizationId, keyId, requestId),
    };
  }

  store(
    inquiries: {
      organizationId: string;
      inquiryId: string;
      values: Record<string, string | string[]>;
      occurredAt?: string;
    }[],
  ) {
    return this.post(VaultApi.operations.store.path, { inquiries }, this.ingestToken);
  }

  reveal(request: TestRevealRequest) {
    return this.post(VaultApi.operations.reveal.path, this.revealBody(request), this.apiToken);
  }

  revealBatch(requests: TestRevealRequest[]) {
    return this.post(
      VaultApi.operations.revealBatch.path,
      { requests: requests.map((r) => this.revealBody(r)) },
      this.apiToken,
    );
  }

  lookup(organizationId: string, kind: string, value: string, keyId = 'key_test') {
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    return this.post(
      VaultApi.operations.lookup.path,
      {
        organizationId,
        kind,
        value,
        actor: { type: 'api_key', id: keyId },
        requestId,
        grant: this.grant(organizationId, keyId, requestId),
      },
      this.apiToken,
    );
  }

  async post(
    path: string,
    body: unknown,
    token: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${this.vault.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed };
  }
}
