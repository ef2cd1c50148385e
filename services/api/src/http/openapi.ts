import { SAFE_TEXT_PATTERN } from '@veil/contracts';
import { z } from 'zod';

import { ErrorBody } from './api-schemas';
import { API_VERSION, type ApiRoute, IDEMPOTENCY_KEY_PATTERN, ROUTES } from './routes';

type JsonSchema = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const headerRef = (id: string) => ({ $ref: `#/components/headers/${id}` });

function strip(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = z.globalRegistry.get(schema)?.id;
  if (id) return ref(id);
  return strip(z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema);
}

function parameters(route: ApiRoute): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [location, object] of [
    ['path', route.params],
    ['query', route.query],
  ] as const) {
    if (!object) continue;
    for (const [name, property] of Object.entries(object.shape)) {
      const schema = strip(
        z.toJSONSchema(property as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema,
      );
      const { description, ...rest } = schema;
      out.push({
        name,
        in: location,
        required: location === 'path' || !(property as z.ZodType).safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  out.push({
    name: 'Veil-Version',
    in: 'header',
    required: false,
    description: `API version (a date). Defaults to the newest, ${API_VERSION}.`,
    schema: { type: 'string', enum: [API_VERSION] },
  });
  if (route.idempotent) {
    out.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        '1-255 visible ASCII characters. Replays return the first response; the same key with a different request answers 422.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: IDEMPOTENCY_KEY_PATTERN },
    });
  }
  return out;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (field paths and issue codes in details).',
  401: 'Missing, invalid, expired or revoked API key.',
  403: 'The key lacks a required scope (audited).',
  404: 'No such resource in this organization.',
  409: 'A request with this Idempotency-Key is still in progress.',
  413: 'Request body too large.',
  415: 'Request body in an unsupported charset or content encoding (send UTF-8 JSON).',
  422: 'Idempotency-Key reused with a different request.',
  429: 'Rate limit exceeded (see RateLimit-* and Retry-After).',
  500: 'Unexpected failure (no internals; quote the requestId).',
  503: 'A dependency is unavailable or busy; retry later.',
};

const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const;

/**
 * Response headers. The rate limiter runs once the key is authenticated, so its headers are on
 * every 2xx and 429 answer, and on the other answers given after authentication (not on 401, nor
 * on 403 or on what the body parser or version check refuse first).
 */
function responseHeaders(status: number): Record<string, unknown> {
  const always = status < 300 || status === 429;
  return {
    'Request-Id': headerRef('RequestId'),
    ...Object.fromEntries(
      RATE_LIMIT_HEADERS.map((name) => [
        name,
        headerRef(`${name.replace('-', '')}${always ? '' : 'IfAuthenticated'}`),
      ]),
    ),
    ...(status === 429 ? { 'Retry-After': headerRef('RetryAfter') } : {}),
  };
}

function headerComponents(): Record<string, JsonSchema> {
  const seconds = { type: 'integer', minimum: 1, maximum: 9007199254740991 };
  const rateLimit: Record<(typeof RATE_LIMIT_HEADERS)[number], JsonSchema> = {
    'RateLimit-Limit': {
      description: "Requests per second the key may make (also its burst), this replica's bucket.",
      schema: { type: 'integer', minimum: 1, maximum: 9007199254740991 },
    },
    'RateLimit-Remaining': {
      description: 'Requests left in the bucket now.',
      schema: { type: 'integer', minimum: 0, maximum: 9007199254740991 },
    },
    'RateLimit-Reset': {
      description: 'Seconds until the bucket is full again.',
      schema: seconds,
    },
  };
  const out: Record<string, JsonSchema> = {
    RequestId: {
      description: 'The id of this request (yours if well-formed, else one Veil made); quote it to support.',
      required: true,
      schema: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$' },
    },
    RetryAfter: { description: 'Seconds to wait before retrying.', required: true, schema: seconds },
  };
  for (const [name, header] of Object.entries(rateLimit)) {
    out[name.replace('-', '')] = { ...header, required: true };
    out[`${name.replace('-', '')}IfAuthenticated`] = {
      ...header,
      description: `${header.description as string} Sent once the key is authenticated.`,
      required: false,
    };
  }
  return out;
}

function errorResponses(statuses: number[], extra: Record<number, string>): Record<string, JsonSchema> {
  return Object.fromEntries(
    [...new Set([...statuses, ...Object.keys(extra).map(Number)])]
      .sort((a, b) => a - b)
      .map((s) => [
        String(s),
        {
          description: extra[s] ?? ERROR_DESCRIPTIONS[s],
          headers: responseHeaders(s),
          content: { 'application/json': { schema: ref('Error') } },
        },
      ]),
  );
}

const TAGS = {
  inquiries: { name: 'Inquiries', description: 'Inquiries, with PII only where enabled and allowed.' },
  redactions: {
    name: 'Redactions',
    description:
      'Permanent redaction: ciphertexts and data keys deleted, the PII-free record kept with `redactedAt`. A redacted attribute reads `{"redacted": true, "available": false}`.',
  },
  'retention-policy': {
    name: 'Retention',
    description: 'Automated redaction by policy, with a dry-run preview.',
  },
  'legal-holds': {
    name: 'Legal holds',
    description: 'Data that must be kept: no redaction touches it while a hold lasts.',
  },
  organization: { name: 'Organization', description: 'The organization and its enabled attributes.' },
  'api-keys': { name: 'API keys', description: 'Scoped, expiring, revocable organization keys.' },
  'audit-log': { name: 'Audit log', description: 'Audit entries, proofs, checkpoints and exports.' },
} as const;

function tagOf(route: ApiRoute): string {
  const tag = TAGS[route.path.split('/')[2] as keyof typeof TAGS] as { name: string } | undefined;
  if (!tag) throw new Error(`no tag for ${route.path}: add one to TAGS`);
  return tag.name;
}

/**
 * Says in every schema what the server holds every request to anyway: text without U+0000 or
 * unpaired surrogates (checked for every string by `input()`), and integers within int32 or
 * int64 (zod bounds every integer to the safe range).
 */
function declareImplicitRules(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(declareImplicitRules);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const schema = node as JsonSchema;
  if (schema.type === 'string' && !('enum' in schema || 'const' in schema || 'pattern' in schema)) {
    schema.pattern = SAFE_TEXT_PATTERN;
  }
  if (schema.type === 'integer' && !('format' in schema)) {
    const int32 =
      typeof schema.minimum === 'number' &&
      typeof schema.maximum === 'number' &&
      schema.minimum >= -(2 ** 31) &&
      schema.maximum < 2 ** 31;
    schema.format = int32 ? 'int32' : 'int64';
  }
  Object.values(schema).forEach(declareImplicitRules);
}

/** The OpenAPI 3.1 document of the customer API, generated from ROUTES and the zod schemas. */
export function openApiDocument(): JsonSchema {
  void ErrorBody; // registers the Error schema
  const components = z.toJSONSchema(z.globalRegistry, {
    io: 'output',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of Object.values(ROUTES) as ApiRoute[]) {
    const statuses = [
      400,
      401,
      403,
      429,
      500,
      503,
      ...(route.params ? [404] : []),
      ...(route.body ? [413, 415] : []),
      ...(route.idempotent ? [409, 422] : []),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [tagOf(route)],
      security: [{ apiKey: [] }],
      'x-veil-scopes': route.scopes,
      ...(route.pii ? { 'x-veil-pii': route.pii } : {}),
      parameters: parameters(route),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(route.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [String(route.success.status)]: {
          description: route.success.description,
          headers: responseHeaders(route.success.status),
          ...(route.success.schema
            ? {
                content: {
                  [route.success.contentType ?? 'application/json']: {
                    schema: schemaOf(route.success.schema, 'output'),
                  },
                },
              }
            : {}),
        },
        ...errorResponses(statuses, route.errors ?? {}),
      },
    };
  }
  const document = {
    openapi: '3.1.0',
    info: {
      title: 'Veil customer API',
      version: API_VERSION,
      description:
        'Inquiries without PII by default; PII only for attributes the organization enabled and keys with pii:reveal. ' +
        'Every reveal is audited. Errors are `{code, message, requestId, details}`; every answer has a Request-Id header. ' +
        'Text anywhere in a request may not contain U+0000 or unpaired surrogates (400 naming the field). ' +
        'A method a path does not have answers 405 with an Allow header.',
      contact: { name: 'Veil support (quote the Request-Id of the answer in question)' },
    },
    servers: [
      {
        url: '/',
        description:
          'The origin serving this document: HTTPS in production; http://127.0.0.1:3000 on the local stack (npm start).',
        'x-internal': false,
      },
    ],
    security: [{ apiKey: [] }],
    tags: Object.values(TAGS),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An organization API key: veil_sk_…' },
      },
      headers: headerComponents(),
      schemas: Object.fromEntries(Object.entries(components.schemas).map(([id, s]) => [id, strip(s)])),
    },
  };
  declareImplicitRules(document.paths);
  declareImplicitRules(document.components);
  return document;
}
