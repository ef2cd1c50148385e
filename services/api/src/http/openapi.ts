import { z } from 'zod';

import { ErrorBody } from './api-schemas';
import { API_VERSION, type ApiRoute, ROUTES } from './routes';

type JsonSchema = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

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
      description: 'Replays return the first response; the same key with a different request answers 422.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  return out;
}

const errors = (statuses: number[], extra: Record<number, string> = {}) =>
  Object.fromEntries(
    [...new Set([...statuses, ...Object.keys(extra).map(Number)])].sort().map((s) => [
      String(s),
      {
        description: extra[s] ?? ERROR_DESCRIPTIONS[s],
        content: { 'application/json': { schema: ref('Error') } },
      },
    ]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (field paths and issue codes in details).',
  401: 'Missing, invalid, expired or revoked API key.',
  403: 'The key lacks a required scope (audited).',
  404: 'No such resource in this organization.',
  409: 'A request with this Idempotency-Key is still in progress.',
  413: 'Request body too large.',
  422: 'Idempotency-Key reused with a different request.',
  429: 'Rate limit exceeded (see RateLimit-* and Retry-After).',
};

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
      ...(route.params ? [404] : []),
      ...(route.body ? [413] : []),
      ...(route.idempotent ? [409, 422] : []),
    ];
    const extra = route.errors ?? {};
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      operationId: route.operationId,
      summary: route.summary,
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
        ...errors(statuses, extra),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Veil customer API',
      version: API_VERSION,
      description:
        'Inquiries without PII by default; PII only for attributes the organization enabled and keys with pii:reveal. ' +
        'Every reveal is audited. Errors are `{code, message, requestId, details}`; every answer has a Request-Id header.',
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: 'local stack (npm start)' }],
    security: [{ apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An organization API key: veil_sk_…' },
      },
      schemas: Object.fromEntries(Object.entries(components.schemas).map(([id, s]) => [id, strip(s)])),
    },
  };
}
