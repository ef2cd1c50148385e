import { z } from 'zod';

import { defineEvent, defineTopic, retention } from '../contract';
import { OpaqueId, SubjectRef, Timestamp } from '../ids';

export const DsarLifecycleTopic = defineTopic({
  name: 'dsar.lifecycle',
  description:
    'Reserved for the DSAR work: request lifecycle, subjects only as keyed HMACs. Nothing publishes or consumes it yet.',
  partitions: 3,
  retentionMs: retention.days(30),
  cleanupPolicy: 'delete',
  carriesPii: false,
  producers: [],
  consumers: [],
});

export const DsarKind = z.enum(['access', 'erasure']);
export const DsarState = z.enum(['opened', 'in_progress', 'completed', 'failed']);

export const DsarLifecycleV1 = z.strictObject({
  dsarId: OpaqueId,
  kind: DsarKind,
  state: DsarState,
  subjectRef: SubjectRef,
  dueAt: Timestamp,
  inquiriesFound: z.number().int().nonnegative().optional(),
});
export type DsarLifecycleV1 = z.infer<typeof DsarLifecycleV1>;

export const DsarLifecycle = defineEvent<DsarLifecycleV1>({
  topic: DsarLifecycleTopic,
  eventType: 'dsar.lifecycle',
  eventVersion: 1,
  description:
    'Defined for the DSAR work (a data-subject request changed state); nothing publishes or consumes it yet.',
  data: DsarLifecycleV1,
  key: (data) => data.dsarId,
  example: {
    organizationId: 'org_acme',
    data: {
      dsarId: 'dsar_4RkW',
      kind: 'erasure',
      state: 'opened',
      subjectRef: '9f2c4b1e0d7a6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c',
      dueAt: '2026-11-28T10:00:00.000Z',
    },
  },
});
