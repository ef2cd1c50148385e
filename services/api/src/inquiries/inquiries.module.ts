import { Module } from '@nestjs/common';

import { InquiriesController } from './inquiries.controller';
import { InquiriesRepository } from './inquiries.repository';
import { InquiriesService } from './inquiries.service';
import { InquiryRecordedConsumer } from './inquiry-recorded.consumer';

@Module({
  controllers: [InquiriesController],
  providers: [InquiriesRepository, InquiriesService, InquiryRecordedConsumer],
})
export class InquiriesModule {}
