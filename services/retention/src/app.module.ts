import { type DynamicModule, Module } from '@nestjs/common';
import { CALLER_TOKENS, serviceModules } from '@veil/platform/service';

import { RETENTION_CONFIG, type RetentionConfig } from './config';
import { InternalController } from './internal/internal.controller';
import { RETENTION_MIGRATIONS } from './migrations';
import { PolicyService } from './policy/policy.service';
import { Clock } from './schedule/clock';
import { InquiryRecordedConsumer, PiiRedactedConsumer } from './schedule/plan.consumers';
import { PreviewService } from './schedule/preview.service';
import { SchedulerService } from './schedule/scheduler.service';
import { VaultClient } from './vault-client/vault-client';

/** Retention policies: plans every recorded inquiry, requests the redactions that fall due, previews them. */
@Module({})
export class AppModule {
  static register(config: RetentionConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [...serviceModules({ service: 'retention', config, migrations: RETENTION_MIGRATIONS })],
      controllers: [InternalController],
      providers: [
        { provide: RETENTION_CONFIG, useValue: config },
        { provide: CALLER_TOKENS, useValue: { api: config.RETENTION_INTERNAL_TOKEN } },
        Clock,
        InquiryRecordedConsumer,
        PiiRedactedConsumer,
        PolicyService,
        PreviewService,
        SchedulerService,
        VaultClient,
      ],
    };
  }
}
