import { Module } from '@nestjs/common';

import { PiiRedactedConsumer } from './pii-redacted.consumer';
import { RedactionsController } from './redactions.controller';
import { RedactionsService } from './redactions.service';

@Module({
  controllers: [RedactionsController],
  providers: [PiiRedactedConsumer, RedactionsService],
})
export class RedactionsModule {}
