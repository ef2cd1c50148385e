import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The vault no longer derives tokens and nothing ever read them, so the record keeps only which
 * attributes exist. `down` brings the column back nullable: the dropped tokens are not restored.
 */
export class DropVaultTokens1765000000000 implements MigrationInterface {
  name = 'DropVaultTokens1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`alter table inquiries drop column vault_tokens`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`alter table inquiries add column vault_tokens jsonb`);
  }
}
