/**
 * The delivery checker (EVIDENCE.md): every generated event has a unique id; the harness records
 * the ids the broker acknowledged, reads the final state, and reports sets, not just counts.
 */
export interface CheckReport {
  acked: number;
  applied: number;
  lost: string[];
  duplicated: string[];
  unexpected: string[];
}

export class DeliveryChecker {
  private readonly acked = new Set<string>();

  recordAcked(ids: Iterable<string>): void {
    for (const id of ids) this.acked.add(id);
  }

  get ackedCount(): number {
    return this.acked.size;
  }

  /** `appliedIds` lists one entry per side effect observed (duplicates included). */
  check(appliedIds: Iterable<string>): CheckReport {
    const counts = new Map<string, number>();
    for (const id of appliedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    return {
      acked: this.acked.size,
      applied: [...counts.values()].reduce((a, b) => a + b, 0),
      lost: [...this.acked].filter((id) => !counts.has(id)).sort(),
      duplicated: [...counts]
        .filter(([, n]) => n > 1)
        .map(([id]) => id)
        .sort(),
      unexpected: [...counts.keys()].filter((id) => !this.acked.has(id)).sort(),
    };
  }
}
