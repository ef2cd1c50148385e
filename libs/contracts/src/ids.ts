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
  .regex(/^[a-f0-9]{64}$/, 'must be a lowercase hex HMAC-SHA256')
  .describe('Keyed HMAC-SHA256 of a subject identifier (blind index); never the identifier itself.');

export const Timestamp = z.iso.datetime({ offset: true }).describe('ISO-8601 date-time with offset.');
