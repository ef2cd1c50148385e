import { Module } from '@nestjs/common';

import { InquiriesRepository } from '../inquiries/inquiries.repository';
import { RetentionClient } from './retention.client';
import { RetentionController } from './retention.controller';

@Module({
  controllers: [RetentionController],
  providers: [InquiriesRepository, RetentionClient],
})
export class RetentionModule {}
