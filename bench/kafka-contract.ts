import { defineEvent, defineTopic, type EventContract } from '@veil/contracts';
import { z } from 'zod';

export const BenchData = z.strictObject({ seq: z.number().int(), body: z.string() });
export type BenchData = z.infer<typeof BenchData>;

export function benchContract(topicName: string, partitions = 6): EventContract<BenchData> {
  return defineEvent<BenchData>({
    topic: defineTopic({
      name: topicName,
      description: 'benchmark',
      partitions,
      retentionMs: 3_600_000,
      cleanupPolicy: 'delete',
      carriesPii: false,
      producers: ['bench'],
      consumers: ['bench'],
    }),
    eventType: 'bench.record',
    eventVersion: 1,
    description: 'benchmark record',
    data: BenchData,
    key: (d) => `k${d.seq % 64}`,
    example: { organizationId: 'org_bench', data: { seq: 0, body: 'x' } },
  });
}
