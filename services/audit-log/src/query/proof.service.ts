import { Injectable } from '@nestjs/common';
import {
  type Checkpoint,
  type ConsistencyProof,
  consistencyRanges,
  type InclusionProof,
  inclusionRanges,
  type LeafRange,
  type NodeKey,
  nodesForRange,
  rangeHash,
} from '@veil/contracts';
import { ApiError } from '@veil/platform/service';
import { DataSource } from 'typeorm';

import { CheckpointStore } from '../checkpoints/checkpoint-store';

/**
 * Inclusion and consistency proofs against signed checkpoints, built from the stored complete
 * subtrees: a proof over n leaves needs O(log n) ranges, each O(log n) stored nodes, read in one query.
 */
@Injectable()
export class ProofService {
  private readonly checkpoints: CheckpointStore;

  constructor(private readonly dataSource: DataSource) {
    this.checkpoints = new CheckpointStore(dataSource);
  }

  /** Proves entry `seq` is in the checkpoint of `treeSize` leaves (default: the newest checkpoint). */
  async inclusion(chain: string, seq: number, treeSize?: number): Promise<InclusionProof> {
    const checkpoint =
      treeSize === undefined
        ? await this.checkpoints.latest(chain, seq + 1)
        : await this.checkpoints.at(chain, treeSize);
    if (!checkpoint) {
      throw treeSize === undefined
        ? new ApiError(
            409,
            'not_checkpointed_yet',
            'no signed checkpoint covers this entry yet; retry shortly',
          )
        : ApiError.notFound('no checkpoint of that size');
    }
    if (seq >= checkpoint.treeSize)
      throw new ApiError(409, 'not_in_checkpoint', 'the entry is newer than that checkpoint');
    return this.inclusionIn(checkpoint, seq);
  }

  /** Proves entry `seq` (below the checkpoint's size) is in the given checkpoint's tree. */
  async inclusionIn(checkpoint: Checkpoint, seq: number): Promise<InclusionProof> {
    const path = await this.hashes(checkpoint.chain, inclusionRanges(seq, checkpoint.treeSize));
    return { chain: checkpoint.chain, seq, checkpoint, path };
  }

  /** The newest checkpoint of a chain, if any. */
  latestCheckpoint(chain: string): Promise<Checkpoint | undefined> {
    return this.checkpoints.latest(chain);
  }

  /** Proves the checkpoint of `to` leaves extends the one of `from` leaves. */
  async consistency(chain: string, from: number, to: number): Promise<ConsistencyProof> {
    if (from > to) throw ApiError.badRequest('from must not be larger than to');
    const [first, second] = await Promise.all([
      this.checkpoints.at(chain, from),
      this.checkpoints.at(chain, to),
    ]);
    if (!first || !second) throw ApiError.notFound('no checkpoint of that size');
    const path = from === to ? [] : await this.hashes(chain, consistencyRanges(from, to));
    return { chain, from: first, to: second, path };
  }

  /** The tree hash of each range, hex, in order. */
  private async hashes(chain: string, ranges: LeafRange[]): Promise<string[]> {
    const keys = ranges.flatMap(nodesForRange);
    const leaves = keys.filter((k) => k.level === 0).map((k) => k.index);
    const inner = keys.filter((k) => k.level > 0);
    const rows = (await this.dataSource.query(
      `select level, idx, hash from nodes
        where chain_id = $1 and (level, idx) in (select * from unnest($2::smallint[], $3::bigint[]))
       union all
       select 0, seq, leaf_hash from entries where chain_id = $1 and seq = any($4::bigint[])`,
      [chain, inner.map((k) => k.level), inner.map((k) => k.index), leaves],
    )) as { level: number; idx: string; hash: Buffer }[];
    const stored = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
    const node = ({ level, index }: NodeKey): Buffer => {
      const hash = stored.get(`${level}/${index}`);
      // a missing subtree means the stored tree lost a node: fail loudly, never hand out a bad proof
      if (!hash) throw new Error(`${chain}: stored subtree ${level}/${index} is missing`);
      return hash;
    };
    return ranges.map((range) => rangeHash(range, node).toString('hex'));
  }
}
