import { z } from 'zod';

/**
 * Identifiers that cross service and organization boundaries. They are opaque to Veil,
 * chosen by upstream systems, and kept to a conservative alphabet so they are safe in
 * logs, headers, metric labels and URLs.
 */
export const OpaqueId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : -');

export const OrganizationId = OpaqueId.describe('The organization (tenant) that owns the data.');
export const InquiryId = OpaqueId.describe('The upstream inquiry identifier.');
export const EventId = OpaqueId.describe('Unique per event; consumers de-duplicate on it.');

/** A keyed HMAC of a subject identifier (hex SHA-256); never the identifier itself. */
export const SubjectRef = z
  .string()
  .max(64)
  .regex(/^[a-f0-9]{64}$/, 'must be a lowercase hex HMAC-SHA256')
  .describe('Keyed HMAC-SHA256 of a subject identifier (blind index); never the identifier itself.');

/**
 * An ISO-8601 date-time with offset, as PostgreSQL's timestamptz takes it: valid calendar dates of
 * the years 0001-9999 and offsets up to ±15:59. ISO 8601 also allows year 0000 and offsets up to
 * ±23:59, which would fail in the database, late and as a server error.
 */
const DATE_TIME = new RegExp(
  '^(?:' +
    // 29 February of leap years (0000 excluded)
    '(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|(?:[2468][048]|[02468][48])00|[13579][26]00)-02-29' +
    '|(?:000[1-9]|00[1-9]\\d|0[1-9]\\d{2}|[1-9]\\d{3})-' +
    '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|02-(?:0[1-9]|1\\d|2[0-8]))' +
    ')T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|[+-](?:0\\d|1[0-5]):[0-5]\\d)$',
);

export const Timestamp = z
  .string()
  .max(64)
  .regex(DATE_TIME, 'must be an ISO-8601 date-time with offset (years 0001-9999, offsets within ±15:59)')
  .meta({ format: 'date-time', description: 'ISO-8601 date-time with offset.' });
