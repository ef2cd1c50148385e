import { z } from 'zod';

import type { TopicSpec } from './contract';
import { EVENT_CONTRACTS, TOPICS } from './registry';

function retentionText(topic: TopicSpec): string {
  const base =
    topic.retentionMs === -1
      ? 'forever'
      : topic.retentionMs % 86_400_000 === 0
        ? `${topic.retentionMs / 86_400_000} days`
        : `${topic.retentionMs} ms`;
  return topic.retentionEnv ? `${base} (override: \`${topic.retentionEnv}\`)` : base;
}

/** The events catalogue (docs/events.md), generated from the registry so it cannot drift. */
export function renderEventsCatalog(): string {
  const lines: string[] = [
    '# Veil events',
    '',
    '<!-- Generated from libs/contracts by `npm run docs`. Do not edit by hand: a test fails if this file drifts. -->',
    '',
    'Every record on a Veil topic is a JSON envelope. The envelope carries routing, tracing and idempotency;',
    'the payload is in `data`. Consumers de-duplicate on `eventId`; unknown fields, unknown event types and',
    "unknown versions are rejected to the topic's dead-letter topic with a reason code in the record headers.",
    'No string (object keys included) may hold U+0000 or an unpaired UTF-16 surrogate: PostgreSQL cannot',
    'store such text faithfully, so the record is rejected as `invalid_payload` (`invalid_envelope` for an',
    'envelope field) with the path, e.g. `data.attributes.nameFirst: invalid_characters`.',
    '',
    '| envelope field | meaning |',
    '|---|---|',
    '| `eventId` | unique per event; the idempotency key |',
    '| `eventType` | e.g. `inquiry.created` |',
    '| `eventVersion` | integer; a breaking change gets a new version |',
    '| `occurredAt` | ISO-8601 date-time with offset |',
    '| `producer` | the system that produced the event |',
    '| `organizationId` | the tenant that owns the data |',
    '| `correlationId` | optional; ties together the events of one request |',
    '',
    'Dead-letter records keep the original key and headers and add `veil-dlq-original-topic`,',
    '`veil-dlq-original-partition`, `veil-dlq-original-offset`, `veil-dlq-error-code`, `veil-dlq-error-detail`',
    '(paths and issue codes only, never values), `veil-dlq-consumer-group` and `veil-dlq-failed-at`. They keep',
    'the original value up to 900 KiB; a larger one (e.g. a record rejected as `payload_too_large`) is left out',
    '(null value) and `veil-dlq-value-omitted-bytes` gives its size, so the dead-letter write cannot fail.',
    '',
    'Consumers decompress a compressed record batch (gzip, snappy, lz4, zstd) only up to 64 MiB, eight',
    'times the largest `KAFKA_MAX_EVENT_BYTES` allowed. A batch that would expand further (a decompression',
    'bomb) is not read: each of its offsets is dead-lettered with `payload_too_large` and no key, value or',
    'original headers, and the consumer moves on. The records stay on the source topic until retention.',
    '',
    '## Topics',
    '',
    '| topic | partitions | retention | cleanup | plaintext PII | producers → consumers |',
    '|---|---|---|---|---|---|',
  ];
  for (const t of TOPICS) {
    lines.push(
      `| \`${t.name}\` | ${t.partitions} | ${retentionText(t)} | ${t.cleanupPolicy} | ${t.carriesPii ? '**yes**' : 'no'} | ${t.producers.join(', ') || '(none yet)'} → ${t.consumers.join(', ') || '(none yet)'} |`,
    );
  }
  for (const c of EVENT_CONTRACTS) {
    lines.push(
      '',
      `## \`${c.eventType}\` v${c.eventVersion}`,
      '',
      `Topic \`${c.topic.name}\`. ${c.description}`,
      '',
      'Example:',
      '',
      '```json',
      JSON.stringify(
        {
          eventId: '5b0e6a52-93c4-4b8e-9d0f-3f1f4b6b2a10',
          eventType: c.eventType,
          eventVersion: c.eventVersion,
          occurredAt: '2026-11-25T10:15:00.000Z',
          producer: c.topic.producers[0] ?? 'producer-id',
          organizationId: c.example.organizationId,
          correlationId: 'req_9dT1',
          data: c.example.data,
        },
        null,
        2,
      ),
      '```',
      '',
      '<details><summary>JSON Schema of <code>data</code></summary>',
      '',
      '```json',
      JSON.stringify(z.toJSONSchema(c.data as z.ZodType, { io: 'input', unrepresentable: 'any' }), null, 2),
      '```',
      '',
      '</details>',
    );
  }
  return `${lines.join('\n')}\n`;
}
