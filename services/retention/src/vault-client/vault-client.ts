import { Inject, Injectable } from '@nestjs/common';
import { type ResponseOf, VaultApi } from '@veil/contracts';
import { InternalCallError, postInternal } from '@veil/platform/service';

import { RETENTION_CONFIG, type RetentionConfig } from '../config';

type HeldAmong = typeof VaultApi.operations.heldAmong;
export type HeldInquiry = ResponseOf<HeldAmong>['held'][number];

const CHUNK = 10_000;

/** The vault's legal holds, as retention plans with them (its credential allows nothing else). */
@Injectable()
export class VaultClient {
  constructor(@Inject(RETENTION_CONFIG) private readonly config: RetentionConfig) {}

  async heldAmong(organizationId: string, inquiryIds: string[]): Promise<Map<string, HeldInquiry>> {
    const out = new Map<string, HeldInquiry>();
    for (let i = 0; i < inquiryIds.length; i += CHUNK) {
      const chunk = inquiryIds.slice(i, i + CHUNK);
      let answer;
      try {
        answer = await postInternal<ResponseOf<HeldAmong>>(
          this.config.VAULT_URL,
          VaultApi.operations.heldAmong.path,
          this.config.VAULT_TOKEN,
          { organizationId, inquiryIds: chunk },
          this.config.VAULT_TIMEOUT_MS,
        );
      } catch (error) {
        if (error instanceof InternalCallError) throw new Error(`vault unreachable: ${error.message}`);
        throw error;
      }
      if (answer.status !== 200 || !answer.body) throw new Error(`vault answered ${answer.status}`);
      for (const h of answer.body.held) out.set(h.inquiryId, h);
    }
    return out;
  }
}
