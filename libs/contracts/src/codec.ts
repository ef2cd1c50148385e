import { randomUUID } from 'node:crypto';

import type { z } from 'zod';

import type { EventContract } from './contract';
import { EnvelopeHeader, type EventEnvelope } from './envelope';

export type DecodeFailureCode =
  | 'empty_payload'
  | 'payload_too_large'
  | 'malformed_json'
  | 'forbidden_key'
  | 'invalid_envelope'
  | 'unknown_event_type'
  | 'unknown_event_version'
  | 'invalid_payload';

export type DecodeResult<T = unknown> =
  | { ok: true; event: EventEnvelope<T>; contract: EventContract<T> }
  | { ok: false; code: DecodeFailureCode; details: string[] };

/** Thrown when Veil itself tries to publish something its contract rejects: a bug, never input. */
export class ContractViolation extends Error {
  constructor(
    readonly code: DecodeFailureCode,
    readonly details: string[],
  ) {
    super(`${code}: ${details.join('; ')}`);
    this.name = 'ContractViolation';
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/**
 * Describes validation issues by path and issue code only. Zod messages may quote input values,
 * and input values may be PII, so they never leave this function. Unknown key names are input too:
 * they are only listed with `echoKeys` (an HTTP answer to the caller who sent them), otherwise
 * counted. Path segments that are not identifiers or indexes are masked.
 */
export function describeIssues(error: z.ZodError, options: { echoKeys?: boolean } = {}): string[] {
  return error.issues.slice(0, 20).map((issue) => {
    const path = issue.path.length ? issue.path.map(pathSegment).join('.') : '(root)';
    return `${path}: ${issue.code}${issue.code === 'unrecognized_keys' ? unknownKeys(issue.keys, options.echoKeys) : ''}`;
  });
}

function pathSegment(segment: PropertyKey): string {
  if (typeof segment === 'number') return String(segment);
  return typeof segment === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(segment) ? segment : '<key>';
}

function unknownKeys(keys: readonly string[], echo = false): string {
  if (!echo) return ` (${keys.length})`;
  return ` [${keys
    .slice(0, 5)
    .map((k) => (/^[A-Za-z0-9_$-]{1,64}$/.test(k) ? k : '<key>'))
    .join(',')}]`;
}

/**
 * The JSON Schema pattern of the text every Veil string may hold: no U+0000, which PostgreSQL
 * refuses in text (a request would fail late, as a server error). Unpaired UTF-16 surrogates, not
 * Unicode (they would be stored garbled), are refused as well, but no pattern says so portably:
 * JSON Schema tools read patterns by code point, by UTF-16 unit, or (Rust) cannot hold such
 * strings at all, so documents state that rule in words.
 */
export const SAFE_TEXT_PATTERN = '^[^\\u0000]*$';
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what it looks for
const UNSAFE_TEXT = /[\u0000\uD800-\uDFFF]/u;
const MAX_TEXT_DEPTH = 64;

/**
 * Every string (object keys included) of a parsed JSON value that holds U+0000 or an unpaired
 * surrogate, as `path: invalid_characters` lines (paths as describeIssues writes them, never a
 * value). One check at the edge, so no field can forget it.
 */
export function describeUnsafeText(value: unknown, limit = 20): string[] {
  const found: string[] = [];
  const path: PropertyKey[] = []; // one stack, pushed and popped: no array per node on the hot path
  const report = () =>
    found.push(`${path.length ? path.map(pathSegment).join('.') : '(root)'}: invalid_characters`);
  const visit = (current: unknown): void => {
    if (found.length >= limit) return;
    if (typeof current === 'string') {
      if (UNSAFE_TEXT.test(current)) report();
    } else if (Array.isArray(current)) {
      if (path.length >= MAX_TEXT_DEPTH) return;
      for (let i = 0; i < current.length; i++) {
        path.push(i);
        visit(current[i]);
        path.pop();
      }
    } else if (current !== null && typeof current === 'object' && path.length < MAX_TEXT_DEPTH) {
      for (const key of Object.keys(current)) {
        path.push(key);
        if (UNSAFE_TEXT.test(key)) report();
        visit((current as Record<string, unknown>)[key]);
        path.pop();
      }
    }
  };
  visit(value);
  return found.slice(0, limit);
}

/**
 * Whether JSON text may hold U+0000 or an unpaired surrogate once parsed. JSON can only carry
 * U+0000 as an escape (raw control characters are not JSON), and decoded UTF-8 holds no unpaired
 * surrogate (invalid bytes become U+FFFD): an escape of either, or a raw surrogate in a string
 * given as such. Paired surrogates and escaped backslashes match too, and are then walked.
 */
const MAYBE_UNSAFE_JSON = /\\u(?:0000|[dD][89a-fA-F])|[\uD800-\uDFFF]/;

/** Finds a prototype-pollution key; reports its name and depth, never the (input) path to it. */
function findForbiddenKey(value: unknown, depth = 0): string | undefined {
  if (depth > 32) return 'nesting deeper than 32 levels';
  if (value === null || typeof value !== 'object') return undefined;
  const children = Array.isArray(value) ? value : Object.keys(value);
  if (!Array.isArray(value)) {
    for (const key of children as string[])
      if (FORBIDDEN_KEYS.has(key)) return `key "${key}" at depth ${depth + 1}`;
  }
  for (const child of Array.isArray(value)
    ? value
    : (children as string[]).map((k) => (value as Record<string, unknown>)[k])) {
    const hit = findForbiddenKey(child, depth + 1);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Turns raw record bytes into a validated event of one of the topic's contracts, or says precisely
 * (and without quoting any value) why not. Never throws on input.
 */
export function decodeEvent(
  contracts: readonly EventContract<unknown>[],
  raw: Buffer | string | null | undefined,
  maxBytes = DEFAULT_MAX_EVENT_BYTES,
): DecodeResult {
  if (raw === null || raw === undefined || raw.length === 0) {
    return { ok: false, code: 'empty_payload', details: ['record has no value'] };
  }
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (size > maxBytes) {
    return { ok: false, code: 'payload_too_large', details: [`${size} bytes > limit ${maxBytes}`] };
  }
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, code: 'malformed_json', details: ['value is not valid JSON'] };
  }
  const forbidden = findForbiddenKey(parsed);
  if (forbidden) return { ok: false, code: 'forbidden_key', details: [forbidden] };

  const header = EnvelopeHeader.safeParse(parsed);
  if (!header.success) return { ok: false, code: 'invalid_envelope', details: describeIssues(header.error) };
  const mayHoldUnsafeText = MAYBE_UNSAFE_JSON.test(text);
  const unsafeHeader = mayHoldUnsafeText ? describeUnsafeText(header.data) : [];
  if (unsafeHeader.length > 0) return { ok: false, code: 'invalid_envelope', details: unsafeHeader };

  const { eventType, eventVersion } = header.data;
  const ofType = contracts.filter((c) => c.eventType === eventType);
  if (ofType.length === 0)
    return { ok: false, code: 'unknown_event_type', details: [`eventType ${eventType}`] };
  const contract = ofType.find((c) => c.eventVersion === eventVersion);
  if (!contract) {
    return { ok: false, code: 'unknown_event_version', details: [`${eventType} v${eventVersion}`] };
  }
  const rawData = (parsed as { data?: unknown }).data;
  const extraKeys = Object.keys(parsed as object).filter(
    (k) => k !== 'data' && !Object.hasOwn(EnvelopeHeader.shape, k),
  );
  if (extraKeys.length > 0) {
    return {
      ok: false,
      code: 'invalid_envelope',
      details: [`(root): unrecognized_keys${unknownKeys(extraKeys)}`],
    };
  }
  const data = contract.data.safeParse(rawData);
  const problems = [
    ...(data.success ? [] : describeIssues(data.error)),
    ...(mayHoldUnsafeText ? describeUnsafeText(rawData) : []),
  ];
  if (!data.success || problems.length > 0) {
    return { ok: false, code: 'invalid_payload', details: problems.map((d) => `data.${d}`) };
  }
  return { ok: true, event: { ...header.data, data: data.data }, contract };
}

export interface NewEvent<T> {
  organizationId: string;
  data: T;
  producer: string;
  correlationId?: string;
  eventId?: string;
  occurredAt?: Date;
}

/** Builds a validated envelope for a contract; throws ContractViolation if Veil would publish garbage. */
export function createEvent<T>(contract: EventContract<T>, input: NewEvent<T>): EventEnvelope<T> {
  const candidate = {
    eventId: input.eventId ?? randomUUID(),
    eventType: contract.eventType,
    eventVersion: contract.eventVersion,
    occurredAt: (input.occurredAt ?? new Date()).toISOString(),
    producer: input.producer,
    organizationId: input.organizationId,
    ...(input.correlationId ? { correlationId: input.correlationId } : {}),
  };
  const header = EnvelopeHeader.safeParse(candidate);
  if (!header.success) throw new ContractViolation('invalid_envelope', describeIssues(header.error));
  const unsafeHeader = describeUnsafeText(header.data);
  if (unsafeHeader.length > 0) throw new ContractViolation('invalid_envelope', unsafeHeader);
  const data = contract.data.safeParse(input.data);
  const problems = [...(data.success ? [] : describeIssues(data.error)), ...describeUnsafeText(input.data)];
  if (!data.success || problems.length > 0) throw new ContractViolation('invalid_payload', problems);
  return { ...header.data, data: data.data };
}

export function encodeEvent(event: EventEnvelope<unknown>): Buffer {
  return Buffer.from(JSON.stringify(event));
}
