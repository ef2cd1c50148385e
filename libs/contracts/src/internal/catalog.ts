import { z } from 'zod';

import { AuditLogApi } from './audit-log-api';
import type { InternalApi } from './internal-api';
import { RetentionApi } from './retention-api';
import { VaultApi } from './vault-api';

/** Every internal HTTP API of Veil; a unit test of each service holds its controllers to its own. */
export const INTERNAL_APIS: readonly InternalApi[] = [VaultApi, AuditLogApi, RetentionApi];

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): string {
  return JSON.stringify(z.toJSONSchema(schema, { io, unrepresentable: 'any' }), null, 2);
}

/** The internal APIs reference (docs/internal-apis.md), generated from the contracts so it cannot drift. */
export function renderInternalApis(): string {
  const lines: string[] = [
    '# Veil internal APIs',
    '',
    '<!-- Generated from libs/contracts by `npm run docs`. Do not edit by hand: a test fails if this file drifts. -->',
    '',
    'Service-to-service HTTP APIs, never exposed to customers. Every operation is a `POST` of a JSON body',
    "with `Authorization: Bearer <the caller's credential>`, answered `200` with the response below. Each",
    'calling service holds its own credential and may use only the operations that name it as a caller:',
    '`401` for an unknown credential, `403` for an operation that is not its own. A body that does not match',
    'the request schema is answered `400`. Errors carry `{ "code", "message", "requestId", "details"? }`.',
  ];
  for (const api of INTERNAL_APIS) {
    lines.push(
      '',
      `## \`${api.service}\``,
      '',
      api.description,
      '',
      '| operation | path | callers |',
      '|---|---|---|',
      ...Object.entries(api.operations).map(
        ([name, op]) => `| \`${name}\` | \`POST ${op.path}\` | ${op.callers.join(', ')} |`,
      ),
    );
    for (const [name, op] of Object.entries(api.operations)) {
      lines.push(
        '',
        `### \`${api.service}\` \`${name}\`: \`POST ${op.path}\``,
        '',
        op.description,
        '',
        `Callers: ${op.callers.map((c) => `\`${c}\``).join(', ')}.`,
        '',
        '<details><summary>JSON Schema of the request</summary>',
        '',
        '```json',
        jsonSchema(op.request, 'input'),
        '```',
        '',
        '</details>',
        '',
        '<details><summary>JSON Schema of the response</summary>',
        '',
        '```json',
        jsonSchema(op.response, 'output'),
        '```',
        '',
        '</details>',
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
