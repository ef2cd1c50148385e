import type { Scope } from '@veil/platform/auth';
import type { z } from 'zod';

import * as S from './api-schemas';

export interface ApiRoute {
  method: 'get' | 'post' | 'put' | 'delete';
  /** OpenAPI style: /v1/inquiries/{inquiryId} */
  path: string;
  operationId: string;
  summary: string;
  scopes: Scope[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Status and schema of the success answer. */
  success: { status: number; schema?: z.ZodType; description: string; contentType?: string };
  idempotent?: boolean;
  /** Answers beyond the common ones (400, 401, 403, 429, 500, 503, …), or what they mean here. */
  errors?: Record<number, string>;
  /**
   * What the route does with personal data. Every such route is performed by the access-path test,
   * which requires exactly one audit entry per call and no access when the audit write fails.
   */
  pii?: 'reveal' | 'export' | 'redact';
}

const INVALID_OR_FOREIGN_CURSOR = 'Invalid request, or a `cursor` Veil did not issue.';
const VAULT_REJECTED = 'The vault refused the request (a fault of Veil; quote the requestId).';
const RETENTION_REJECTED =
  'The retention service refused the request (a fault of Veil; quote the requestId).';
const AUDIT_LOG_REJECTED = 'The audit log refused the request (a fault of Veil; quote the requestId).';

/**
 * Every customer route, in one place: the controllers use these definitions (paths, scopes,
 * schemas) and the OpenAPI document is generated from them, so the two cannot drift apart.
 */
export const ROUTES = {
  listInquiries: {
    method: 'get',
    path: '/v1/inquiries',
    operationId: 'listInquiries',
    summary: 'List inquiries, newest first, with cursor pagination.',
    scopes: ['inquiry:read'],
    query: S.ListInquiriesQuery,
    success: { status: 200, schema: S.InquiryList, description: 'A page of inquiries.' },
    errors: { 400: INVALID_OR_FOREIGN_CURSOR, 502: VAULT_REJECTED },
    pii: 'reveal',
  },
  getInquiry: {
    method: 'get',
    path: '/v1/inquiries/{inquiryId}',
    operationId: 'getInquiry',
    summary:
      'One inquiry. Attributes are revealed only when enabled for the organization and the key has pii:reveal.',
    scopes: ['inquiry:read'],
    params: S.InquiryPath,
    success: { status: 200, schema: S.Inquiry, description: 'The inquiry.' },
    errors: { 502: VAULT_REJECTED },
    pii: 'reveal',
  },
  redactInquiry: {
    method: 'delete',
    path: '/v1/inquiries/{inquiryId}',
    operationId: 'redactInquiry',
    summary:
      "Permanently redact an inquiry's PII: its ciphertexts and data key are deleted; the record stays, with `redactedAt`. Redacting twice answers the same redaction.",
    scopes: ['inquiry:redact'],
    params: S.InquiryPath,
    success: {
      status: 202,
      schema: S.Redaction,
      description: 'Redaction accepted; follow it at `GET /v1/redactions/{redactionId}`.',
    },
    idempotent: true,
    pii: 'redact',
  },
  createRedaction: {
    method: 'post',
    path: '/v1/redactions',
    operationId: 'createRedaction',
    summary:
      'Permanently redact every inquiry of a person (by reference id) in your organization, including those that arrive until the redaction completes.',
    scopes: ['inquiry:redact'],
    body: S.CreateRedaction,
    success: { status: 202, schema: S.Redaction, description: 'Redaction accepted.' },
    idempotent: true,
    errors: { 502: VAULT_REJECTED },
    pii: 'redact',
  },
  listRedactions: {
    method: 'get',
    path: '/v1/redactions',
    operationId: 'listRedactions',
    summary: 'Redactions asked for through the API, newest first, with their progress.',
    scopes: ['inquiry:read'],
    query: S.ListRedactionsQuery,
    success: { status: 200, schema: S.RedactionList, description: 'A page of redactions.' },
    errors: { 400: INVALID_OR_FOREIGN_CURSOR, 502: VAULT_REJECTED },
  },
  getRedaction: {
    method: 'get',
    path: '/v1/redactions/{redactionId}',
    operationId: 'getRedaction',
    summary: 'One redaction: status, and which services have applied it.',
    scopes: ['inquiry:read'],
    params: S.RedactionPath,
    success: { status: 200, schema: S.Redaction, description: 'The redaction.' },
    errors: { 502: VAULT_REJECTED },
  },
  getRetentionPolicy: {
    method: 'get',
    path: '/v1/retention-policy',
    operationId: 'getRetentionPolicy',
    summary: "Your organization's retention policy: when PII is redacted automatically.",
    scopes: ['retention:manage'],
    success: { status: 200, schema: S.RetentionPolicy, description: 'The policy.' },
    errors: { 502: RETENTION_REJECTED },
  },
  putRetentionPolicy: {
    method: 'put',
    path: '/v1/retention-policy',
    operationId: 'putRetentionPolicy',
    summary:
      'Replace the retention policy. Every inquiry not yet redacted is planned again: a shorter period applies to old inquiries too, a longer one postpones them. Audited.',
    scopes: ['retention:manage'],
    body: S.RetentionPolicyBody,
    success: { status: 200, schema: S.RetentionPolicy, description: 'The new policy.' },
    errors: { 400: 'Invalid request, or two rules for one template.', 502: RETENTION_REJECTED },
  },
  previewRetention: {
    method: 'get',
    path: '/v1/retention-policy/preview',
    operationId: 'previewRetention',
    summary:
      'A dry run: what the policy will redact in the next `days` days, per template, and what legal holds keep.',
    scopes: ['retention:manage'],
    query: S.RetentionPreviewQuery,
    success: { status: 200, schema: S.RetentionPreview, description: 'The preview.' },
    errors: { 502: RETENTION_REJECTED },
  },
  createLegalHold: {
    method: 'post',
    path: '/v1/legal-holds',
    operationId: 'createLegalHold',
    summary:
      'Place a legal hold on an inquiry or on every inquiry of a person: no redaction (by API, policy or erasure) touches them while it lasts. Audited.',
    scopes: ['retention:manage'],
    body: S.CreateLegalHold,
    success: { status: 201, schema: S.LegalHold, description: 'The hold.' },
    idempotent: true,
    errors: {
      400: 'Invalid request, or `expiresAt` not in the future.',
      404: "No such inquiry (another organization's id answers the same).",
      502: VAULT_REJECTED,
    },
  },
  listLegalHolds: {
    method: 'get',
    path: '/v1/legal-holds',
    operationId: 'listLegalHolds',
    summary: 'Legal holds, newest first (at most 1000); released ones with `includeReleased=true`.',
    scopes: ['retention:manage'],
    query: S.ListLegalHoldsQuery,
    success: { status: 200, schema: S.LegalHoldList, description: 'The holds.' },
    errors: { 502: VAULT_REJECTED },
  },
  releaseLegalHold: {
    method: 'delete',
    path: '/v1/legal-holds/{holdId}',
    operationId: 'releaseLegalHold',
    summary:
      'Release a legal hold. Redactions that skipped its inquiries are not redone; retention resumes. Audited.',
    scopes: ['retention:manage'],
    params: S.LegalHoldPath,
    success: { status: 200, schema: S.LegalHold, description: 'The released hold.' },
    idempotent: true,
    errors: { 502: VAULT_REJECTED },
  },
  getOrganization: {
    method: 'get',
    path: '/v1/organization',
    operationId: 'getOrganization',
    summary: "The API key's organization.",
    scopes: ['org:admin'],
    success: { status: 200, schema: S.Organization, description: 'The organization.' },
  },
  getEnabledAttributes: {
    method: 'get',
    path: '/v1/organization/enabled-attributes',
    operationId: 'getEnabledAttributes',
    summary: 'PII attributes that may be revealed through the API (empty by default).',
    scopes: ['org:admin'],
    success: { status: 200, schema: S.EnabledAttributes, description: 'The allowlist.' },
  },
  putEnabledAttributes: {
    method: 'put',
    path: '/v1/organization/enabled-attributes',
    operationId: 'putEnabledAttributes',
    summary: 'Replace the allowlist of revealable attributes. Audited with the old and new lists.',
    scopes: ['org:admin'],
    body: S.EnabledAttributes,
    success: { status: 200, schema: S.EnabledAttributes, description: 'The new allowlist.' },
  },
  listApiKeys: {
    method: 'get',
    path: '/v1/api-keys',
    operationId: 'listApiKeys',
    summary: "The organization's API keys (never their secrets), oldest first, with cursor pagination.",
    scopes: ['org:admin'],
    query: S.ListApiKeysQuery,
    success: { status: 200, schema: S.ApiKeyList, description: 'A page of keys.' },
  },
  createApiKey: {
    method: 'post',
    path: '/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key with the given scopes. The secret is returned once.',
    scopes: ['org:admin'],
    body: S.CreateApiKey,
    success: { status: 201, schema: S.CreatedApiKey, description: 'The key and its secret.' },
    idempotent: true,
    errors: { 400: 'Invalid request, or `expiresAt` not in the future or later than year 9999.' },
  },
  revokeApiKey: {
    method: 'delete',
    path: '/v1/api-keys/{keyId}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key; every service refuses it within seconds.',
    scopes: ['org:admin'],
    params: S.KeyPath,
    success: { status: 200, schema: S.ApiKey, description: 'The revoked key.' },
    idempotent: true,
  },
  listAuditEntries: {
    method: 'get',
    path: '/v1/audit-log/entries',
    operationId: 'listAuditEntries',
    summary:
      "Your organization's audit entries (its own chain and operator actions on its data), newest first.",
    scopes: ['audit:read'],
    query: S.ListAuditEntriesQuery,
    success: { status: 200, schema: S.AuditEntryList, description: 'A page of audit entries.' },
    errors: { 400: INVALID_OR_FOREIGN_CURSOR, 502: AUDIT_LOG_REJECTED },
  },
  getAuditEntryProof: {
    method: 'get',
    path: '/v1/audit-log/entries/{eventId}/proof',
    operationId: 'getAuditEntryProof',
    summary: 'An inclusion proof of one entry against a signed checkpoint (409 until one covers it).',
    scopes: ['audit:read'],
    params: S.AuditEntryPath,
    query: S.AuditProofQuery,
    success: { status: 200, schema: S.AuditEntryProof, description: 'The entry and its proof.' },
    errors: {
      404: 'No such entry about this organization, or no checkpoint of that size.',
      409: 'No signed checkpoint covers the entry yet (retry in seconds), or it is newer than treeSize.',
      502: AUDIT_LOG_REJECTED,
    },
  },
  listAuditCheckpoints: {
    method: 'get',
    path: '/v1/audit-log/checkpoints',
    operationId: 'listAuditCheckpoints',
    summary: 'Signed checkpoints (tree size, root, time) of your chain or the operator chain, oldest first.',
    scopes: ['audit:read'],
    query: S.ListAuditCheckpointsQuery,
    success: { status: 200, schema: S.AuditCheckpointList, description: 'A page of checkpoints.' },
    errors: { 502: AUDIT_LOG_REJECTED },
  },
  getAuditConsistencyProof: {
    method: 'get',
    path: '/v1/audit-log/consistency',
    operationId: 'getAuditConsistencyProof',
    summary: 'A proof that a later signed checkpoint extends an earlier one (nothing rewritten or removed).',
    scopes: ['audit:read'],
    query: S.AuditConsistencyQuery,
    success: { status: 200, schema: S.AuditConsistencyProof, description: 'Both checkpoints and the proof.' },
    errors: {
      400: 'Invalid request, or `from` larger than `to`.',
      404: 'No checkpoint of that size.',
      502: AUDIT_LOG_REJECTED,
    },
  },
  getAuditPublicKey: {
    method: 'get',
    path: '/v1/audit-log/public-key',
    operationId: 'getAuditPublicKey',
    summary: 'The public key that verifies checkpoint signatures.',
    scopes: ['audit:read'],
    success: { status: 200, schema: S.AuditPublicKey, description: 'The key.' },
    errors: { 502: AUDIT_LOG_REJECTED },
  },
  exportAuditLog: {
    method: 'get',
    path: '/v1/audit-log/export',
    operationId: 'exportAuditLog',
    summary:
      "Your organization's whole chain as JSON lines (signed checkpoints, then every entry), for the standalone verifier.",
    scopes: ['audit:read'],
    success: {
      status: 200,
      schema: S.AuditExportLine,
      contentType: 'application/x-ndjson',
      description:
        'One JSON object per line: {"checkpoint": {...}} lines, then {"seq": n, "entry": "...", "leafHash": "..."} lines.',
    },
    errors: { 502: AUDIT_LOG_REJECTED },
  },
} as const satisfies Record<string, ApiRoute>;

export type RouteName = keyof typeof ROUTES;

/** Nest/Express path for a route: /v1/inquiries/{inquiryId} -> v1/inquiries/:inquiryId */
export function nestPath(route: ApiRoute): string {
  return route.path.replace(/^\//, '').replace(/\{(\w+)\}/g, ':$1');
}

/** What `Idempotency-Key` takes: 1-255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = '^[!-~]{1,255}$';

export const API_VERSION = '2026-11-25';
export const SUPPORTED_VERSIONS = [API_VERSION] as const;
