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
  success: { status: number; schema?: z.ZodType; description: string };
  idempotent?: boolean;
}

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
  },
  redactInquiry: {
    method: 'delete',
    path: '/v1/inquiries/{inquiryId}',
    operationId: 'redactInquiry',
    summary: 'Permanently redact an inquiry (reserved: answers 501 until redaction ships).',
    scopes: ['inquiry:redact'],
    params: S.InquiryPath,
    success: { status: 202, description: 'Redaction accepted.' },
    idempotent: true,
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
    summary: "The organization's API keys (never their secrets).",
    scopes: ['org:admin'],
    success: { status: 200, schema: S.ApiKeyList, description: 'The keys.' },
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
} as const satisfies Record<string, ApiRoute>;

export type RouteName = keyof typeof ROUTES;

/** Nest/Express path for a route: /v1/inquiries/{inquiryId} -> v1/inquiries/:inquiryId */
export function nestPath(route: ApiRoute): string {
  return route.path.replace(/^\//, '').replace(/\{(\w+)\}/g, ':$1');
}

export const API_VERSION = '2026-11-25';
export const SUPPORTED_VERSIONS = [API_VERSION] as const;
