import { z } from 'zod';

import { EventId, OpaqueId, OrganizationId, Timestamp } from './ids';

/**
 * Every event on every Veil topic travels in this envelope. The envelope carries no PII:
 * routing, tracing and idempotency live here, the payload lives in `data`.
 */
export const envelopeFields = {
  eventId: EventId,
  eventType: z.string().regex(/^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$/),
  eventVersion: z.number().int().positive(),
  occurredAt: Timestamp,
  producer: z.string().min(1).max(64).describe('The system that produced the event.'),
  organizationId: OrganizationId,
  correlationId: OpaqueId.optional().describe('Ties together every event caused by one request.'),
};

/** The envelope without its payload; used to route a message before its payload is checked. */
export const EnvelopeHeader = z.object(envelopeFields);

export type EventEnvelope<TData> = z.infer<typeof EnvelopeHeader> & { data: TData };
