import { type DynamicModule, Module } from '@nestjs/common';
import { SERVICE_TOKEN } from '@veil/platform/service';

import { INGEST_CONFIG, type IngestConfig } from '../config';
import { PiiRedactedConsumer } from '../redaction/pii-redacted.consumer';
import { VaultClient } from '../vault-client/vault-client';
import { InquiryCreatedConsumer } from './inquiry-created.consumer';
import { InquiryIntakeService } from './inquiry-intake.service';
import { IntakeController } from './intake.controller';

@Module({})
export class IntakeModule {
  static register(config: IngestConfig): DynamicModule {
    return {
      module: IntakeModule,
      controllers: [IntakeController],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        { provide: SERVICE_TOKEN, useValue: config.INGEST_INTAKE_TOKEN },
        InquiryCreatedConsumer,
        InquiryIntakeService,
        PiiRedactedConsumer,
        VaultClient,
      ],
    };
  }
}
