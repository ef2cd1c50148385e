import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { renderEventsCatalog } from './catalog';
import {
  ContractViolation,
  createEvent,
  decodeEvent,
  describeUnsafeText,
  encodeEvent,
  SAFE_TEXT_PATTERN,
} from './codec';
import {
  EVENT_CONTRACTS,
  TOPICS,
  contractsForTopic,
  effectiveRetentionMs,
  rawRecordLifetimeMs,
  segmentMs,
} from './registry';
import { InquiryCreated, InquiryCreatedTopic } from './topics/inquiry-created';
import { InquiryRecorded, InquiryRecordedTopic } from './topics/inquiry-recorded';

const intake = contractsForTopic(InquiryCreatedTopic.name);

function envelope(
  overrides: Record<string, unknown> = {},
  data: unknown = InquiryCreated.example.data,
): string {
  return JSON.stringify({
    eventId: 'evt-1',
    eventType: 'inquiry.created',
    eventVersion: 1,
    occurredAt: '2026-11-25T10:00:00.000Z',
    producer: 'upstream',
    organizationId: 'org_acme',
    data,
    ...overrides,
  });
}

describe('decodeEvent', () => {
  it('accepts a valid event of the topic', () => {
    const result = decodeEvent(intake, Buffer.from(envelope()));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.event.data).toEqual(InquiryCreated.example.data);
  });

  it.each([
    ['empty_payload', null],
    ['malformed_json', '{"eventId":'],
    ['invalid_envelope', envelope({ occurredAt: 'yesterday' })],
    ['invalid_envelope', envelope({ extra: true })],
    ['unknown_event_type', envelope({ eventType: 'inquiry.updated' })],
    ['unknown_event_version', envelope({ eventVersion: 2 })],
    [
      'invalid_payload',
      envelope({}, { ...InquiryCreated.example.data, attributes: { favouriteColour: 'blue' } }),
    ],
    ['invalid_payload', envelope({}, { ...InquiryCreated.example.data, attributes: { birthdate: 1815 } })],
    ['forbidden_key', '{"__proto__": {"admin": true}}'],
    ['forbidden_key', envelope({}, JSON.parse('{"attributes": {"constructor": {"prototype": {}}}}'))],
  ])('rejects %s', (code, raw) => {
    const result = decodeEvent(intake, raw);
    expect(result).toMatchObject({ ok: false, code });
    expect(Object.prototype).not.toHaveProperty('admin');
  });

  it('rejects payloads over the size limit before parsing them', () => {
    expect(decodeEvent(intake, envelope(), 100)).toMatchObject({ ok: false, code: 'payload_too_large' });
  });

  it('describes problems by path and code, never quoting a value', () => {
    const secret = 'ada.lovelace@example.com';
    const result = decodeEvent(
      intake,
      envelope(
        {},
        {
          ...InquiryCreated.example.data,
          attributes: { emailAddress: 42, nameFirst: '', phoneNumber: secret },
        },
      ),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.details).toEqual(
        expect.arrayContaining([
          'data.attributes.emailAddress: invalid_type',
          'data.attributes.nameFirst: too_small',
        ]),
      );
      expect(result.details.join()).not.toContain(secret);
    }
  });
});

it('never echoes input keys in problem details (keys can be PII too)', () => {
  expect(decodeEvent(intake, envelope({}, JSON.parse('{"Ada Lovelace": {"__proto__": 1}}')))).toEqual({
    ok: false,
    code: 'forbidden_key',
    details: ['key "__proto__" at depth 3'],
  });
  expect(
    decodeEvent(
      intake,
      envelope({}, { ...InquiryCreated.example.data, attributes: { AdaLovelace: 'x', Smith: 'y' } }),
    ),
  ).toEqual({ ok: false, code: 'invalid_payload', details: ['data.attributes: unrecognized_keys (2)'] });
});

describe('text PostgreSQL cannot store faithfully (U+0000, unpaired surrogates)', () => {
  const withName = (nameFirst: string) =>
    envelope({}, { ...InquiryCreated.example.data, attributes: { nameFirst, nameLast: 'ok 😀' } });

  it.each([
    ['a NUL', 'Ada\u0000'],
    ['a lone high surrogate', 'Ada\ud800'],
    ['a lone low surrogate', '\udc00Ada'],
  ])('rejects %s in a payload string as a schema error naming the field, never the value', (_, name) => {
    const result = decodeEvent(intake, Buffer.from(withName(name)));
    expect(result).toEqual({
      ok: false,
      code: 'invalid_payload',
      details: ['data.attributes.nameFirst: invalid_characters'],
    });
  });

  it('rejects it in array items, keys and envelope fields too', () => {
    const files = envelope(
      {},
      { ...InquiryCreated.example.data, attributes: { documentFiles: ['a', 'b\u0000'] } },
    );
    expect(decodeEvent(intake, files)).toMatchObject({
      code: 'invalid_payload',
      details: ['data.attributes.documentFiles.1: invalid_characters'],
    });
    expect(decodeEvent(intake, envelope({ producer: 'up\u0000stream' }))).toEqual({
      ok: false,
      code: 'invalid_envelope',
      details: ['producer: invalid_characters'],
    });
    expect(describeUnsafeText({ ['k\u0000']: 'v' })).toEqual(['<key>: invalid_characters']);
  });

  it('finds them however the JSON text spells them: escapes in either case, a raw surrogate in a string', () => {
    const text = withName('NAME');
    for (const spelled of ['\\u0000', '\\uD800', '\\udC00', '\ud800'])
      expect(decodeEvent(intake, text.replace('NAME', `Ada${spelled}`))).toEqual({
        ok: false,
        code: 'invalid_payload',
        details: ['data.attributes.nameFirst: invalid_characters'],
      });
    // an escaped backslash before "u0000" is six ordinary characters
    expect(decodeEvent(intake, text.replace('NAME', '\\\\u0000')).ok).toBe(true);
  });

  it('accepts paired surrogates (emoji, astral characters)', () => {
    expect(decodeEvent(intake, withName('Ada 😀 𝔘')).ok).toBe(true);
  });

  it('refuses to publish such an event', () => {
    expect(() =>
      createEvent(InquiryCreated, {
        organizationId: 'org_acme',
        producer: 'ingest',
        data: { ...InquiryCreated.example.data, referenceId: 'ref\u0000' },
      }),
    ).toThrow(/referenceId: invalid_characters/);
  });

  it('publishes the NUL rule as a JSON Schema pattern, read alike by code point or UTF-16 unit', () => {
    for (const pattern of [new RegExp(SAFE_TEXT_PATTERN, 'u'), new RegExp(SAFE_TEXT_PATTERN)]) {
      for (const ok of ['', 'Ada', 'ü 😀 𝔘', '\u{10FFFF}']) expect(pattern.test(ok)).toBe(true);
      for (const bad of ['\u0000', 'Ada\u0000']) expect(pattern.test(bad)).toBe(false);
    }
  });
});

describe('createEvent / encodeEvent', () => {
  it('round-trips through decodeEvent', () => {
    const event = createEvent(InquiryCreated, { ...InquiryCreated.example, producer: 'ingest' });
    const decoded = decodeEvent(intake, encodeEvent(event));
    expect(decoded).toMatchObject({ ok: true, event });
  });

  it('refuses to build an event its contract rejects', () => {
    expect(() =>
      createEvent(InquiryCreated, {
        organizationId: 'org_acme',
        producer: 'ingest',
        data: { inquiryId: 'x' } as never,
      }),
    ).toThrow(ContractViolation);
  });
});

describe('registry', () => {
  it('lets only the intake topic and its dead-letter topic carry PII (invariant 1)', () => {
    expect(TOPICS.filter((t) => t.carriesPii).map((t) => t.name)).toEqual([
      'inquiry.created',
      'inquiry.created.dlq',
    ]);
  });

  it('bounds the retention of every PII topic, default 7 days, configurable', () => {
    for (const t of TOPICS.filter((t) => t.carriesPii)) {
      expect(effectiveRetentionMs(t, {})).toBe(7 * 24 * 3600 * 1000);
      expect(effectiveRetentionMs(t, { VEIL_INTAKE_RETENTION_MS: '3600000' })).toBe(3_600_000);
    }
    expect(() => effectiveRetentionMs(InquiryCreatedTopic, { VEIL_INTAKE_RETENTION_MS: 'a week' })).toThrow(
      /milliseconds/,
    );
  });

  it('rolls PII topics into segments of at most a day, so a raw record outlives its retention by a day and 5 minutes at most', () => {
    const day = 24 * 3600 * 1000;
    for (const t of TOPICS.filter((t) => t.carriesPii)) {
      expect(segmentMs(t, {})).toBe(day);
      expect(rawRecordLifetimeMs(t, {})).toBe(7 * day + day + 5 * 60_000);
      // a retention shorter than a day: segments as short as the retention
      expect(rawRecordLifetimeMs(t, { VEIL_INTAKE_RETENTION_MS: '3600000' })).toBe(
        2 * 3_600_000 + 5 * 60_000,
      );
    }
    for (const t of TOPICS.filter((t) => !t.carriesPii)) expect(rawRecordLifetimeMs(t, {})).toBeUndefined();
  });

  it('gives every event topic a dead-letter topic and explicit partitions', () => {
    for (const c of EVENT_CONTRACTS) {
      expect(c.topic.deadLetter?.name).toBe(`${c.topic.name}.dlq`);
      expect(c.topic.partitions).toBeGreaterThan(0);
    }
    expect(new Set(TOPICS.map((t) => t.name)).size).toBe(TOPICS.length);
  });

  it('has examples that satisfy their own contracts', () => {
    for (const c of EVENT_CONTRACTS) expect(c.data.safeParse(c.example.data).success).toBe(true);
  });

  it('still accepts inquiry.recorded v1 records sent with the deprecated vaultTokens', () => {
    const raw = envelope(
      { eventType: 'inquiry.recorded', producer: 'ingest' },
      { ...InquiryRecorded.example.data, vaultTokens: { nameFirst: 'vt_8fM2kQ1xZr4TbW9a00' } },
    );
    expect(decodeEvent(contractsForTopic(InquiryRecordedTopic.name), raw)).toMatchObject({ ok: true });
  });

  it('matches the committed docs/events.md (run `npm run docs` after changing a contract)', () => {
    const committed = readFileSync(join(__dirname, '../../../docs/events.md'), 'utf8');
    expect(committed).toBe(renderEventsCatalog());
  });
});
