import type { Checkpoint } from '@veil/contracts';
import type { DataSource } from 'typeorm';

interface CheckpointRow {
  chain_id: string;
  tree_size: string;
  root_hash: Buffer;
  signed_at: Date;
  key_id: string;
  algorithm: 'ECDSA_SHA_256';
  signature: Buffer;
}

const COLUMNS = `chain_id, tree_size, root_hash, signed_at, key_id, algorithm, signature`;

function toCheckpoint(c: CheckpointRow): Checkpoint {
  return {
    chain: c.chain_id,
    treeSize: Number(c.tree_size),
    rootHash: c.root_hash.toString('hex'),
    signedAt: c.signed_at.toISOString(),
    keyId: c.key_id,
    algorithm: c.algorithm,
    signature: c.signature.toString('base64'),
  };
}

/** Reads the signed checkpoints as stored: what verification, proofs and exports all rely on. */
export class CheckpointStore {
  constructor(private readonly dataSource: DataSource) {}

  /** A chain's checkpoints in size order, optionally only those above `afterSize`, at most `limit`. */
  async list(chain: string, options: { afterSize?: number; limit?: number } = {}): Promise<Checkpoint[]> {
    const rows = (await this.dataSource.query(
      `select ${COLUMNS} from checkpoints where chain_id = $1 and tree_size > $2 order by tree_size limit $3`,
      [chain, options.afterSize ?? 0, options.limit ?? null],
    )) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  /** The checkpoint of exactly `treeSize` leaves, if one was signed. */
  async at(chain: string, treeSize: number): Promise<Checkpoint | undefined> {
    const [row] = (await this.dataSource.query(
      `select ${COLUMNS} from checkpoints where chain_id = $1 and tree_size = $2`,
      [chain, treeSize],
    )) as CheckpointRow[];
    return row && toCheckpoint(row);
  }

  /** The newest checkpoint, if the chain has one covering at least `minSize` leaves. */
  async latest(chain: string, minSize = 1): Promise<Checkpoint | undefined> {
    const [row] = (await this.dataSource.query(
      `select ${COLUMNS} from checkpoints where chain_id = $1 and tree_size >= $2 order by tree_size desc limit 1`,
      [chain, minSize],
    )) as CheckpointRow[];
    return row && toCheckpoint(row);
  }
}
