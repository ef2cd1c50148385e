import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AuditCheckpointSigned, OPERATOR_CHAIN, OPERATOR_CHAIN_OWNER } from '@veil/contracts';
import { OutboxWriter } from '@veil/platform/kafka';
import { DataSource } from 'typeorm';

import { AUDIT_LOG_CONFIG, type AuditLogConfig } from '../config';
import { CheckpointSigner } from './checkpoint-signer';

interface DueChain {
  chain_id: string;
  size: string;
  root_hash: Buffer;
}

/**
 * Signs a checkpoint (tree size, root, time) for every chain that grew by AUDIT_CHECKPOINT_EVERY
 * entries, or that grew at all and was last checkpointed AUDIT_CHECKPOINT_INTERVAL_MS ago.
 * Replicas may race; the (chain, size) key keeps one checkpoint per size.
 */
@Injectable()
export class Checkpointer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Checkpointer');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly signer: CheckpointSigner,
    @Inject(AUDIT_LOG_CONFIG) private readonly config: AuditLogConfig,
    private readonly outbox: OutboxWriter,
  ) {}

  onApplicationBootstrap(): void {
    const every = Math.min(1_000, this.config.AUDIT_CHECKPOINT_INTERVAL_MS);
    this.timer = setInterval(() => {
      this.running ??= this.checkpointDue()
        .then(() => undefined)
        .catch((error: unknown) =>
          this.logger.warn({ msg: 'checkpoint round failed, will retry', error: (error as Error).message }),
        )
        .finally(() => (this.running = undefined));
    }, every);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Checkpoints every due chain; returns how many checkpoints it wrote. */
  async checkpointDue(): Promise<number> {
    const due = (await this.dataSource.query(
      `select c.chain_id, c.size, c.root_hash
         from chains c
         left join lateral (select tree_size, signed_at from checkpoints k
                             where k.chain_id = c.chain_id order by tree_size desc limit 1) last on true
        where c.size > coalesce(last.tree_size, 0)
          and (c.size - coalesce(last.tree_size, 0) >= $1
               or coalesce(last.signed_at, '-infinity') <= now() - make_interval(secs => $2::double precision / 1000))`,
      [this.config.AUDIT_CHECKPOINT_EVERY, this.config.AUDIT_CHECKPOINT_INTERVAL_MS],
    )) as DueChain[];
    for (const chain of due) {
      const checkpoint = await this.signer.sign({
        chain: chain.chain_id,
        treeSize: Number(chain.size),
        rootHash: chain.root_hash.toString('hex'),
        signedAt: new Date().toISOString(),
      });
      // stored and handed to the witness topic together: a witness sees every checkpoint kept
      await this.dataSource.transaction(async (tx) => {
        const inserted = (await tx.query(
          `insert into checkpoints (chain_id, tree_size, root_hash, signed_at, key_id, algorithm, signature)
           values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing returning tree_size`,
          [
            checkpoint.chain,
            checkpoint.treeSize,
            chain.root_hash,
            checkpoint.signedAt,
            checkpoint.keyId,
            checkpoint.algorithm,
            Buffer.from(checkpoint.signature, 'base64'),
          ],
        )) as unknown[];
        if (inserted.length === 0) return; // another replica signed this size first
        await this.outbox.enqueue(
          tx,
          AuditCheckpointSigned,
          {
            organizationId: chainOwner(checkpoint.chain),
            data: checkpoint,
          },
          { ordered: false },
        );
      });
    }
    return due.length;
  }
}

/** The organization a chain belongs to (`org:<organization>`), or the owner named for the operator chain. */
function chainOwner(chain: string): string {
  return chain === OPERATOR_CHAIN ? OPERATOR_CHAIN_OWNER : chain.slice('org:'.length);
}
