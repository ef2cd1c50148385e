import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  createEvent,
  DEFAULT_MAX_EVENT_BYTES,
  encodeEvent,
  InquiryCreated,
  InquiryCreatedV1,
  OrganizationId,
} from '@veil/contracts';
import { EventPublisher, toMessage } from '@veil/platform/kafka';
import { ApiError, parseBody, requestIdOf, ServiceTokenGuard } from '@veil/platform/service';
import type { Request } from 'express';
import { z } from 'zod';

export const IntakeRequest = InquiryCreatedV1.extend({ organizationId: OrganizationId });

/**
 * HTTP intake for upstream systems that do not speak Kafka: validates the same contract as the
 * topic and publishes to `inquiry.created` (acks=all) before answering 202.
 */
@Controller('v1/inquiries')
@UseGuards(ServiceTokenGuard)
export class IntakeController {
  constructor(private readonly publisher: EventPublisher) {}

  @Post()
  @HttpCode(202)
  async create(
    @Body() body: unknown,
    @Req() req: Request,
  ): Promise<{ inquiryId: string; eventId: string; status: 'accepted' }> {
    const { organizationId, ...data } = parseBody(IntakeRequest, body) as z.infer<typeof IntakeRequest>;
    const requestId = requestIdOf(req);
    const event = createEvent(InquiryCreated, {
      organizationId,
      data,
      producer: 'ingest-http',
      ...(/^[A-Za-z0-9_.:-]{1,128}$/.test(requestId) ? { correlationId: requestId } : {}),
    });
    if (encodeEvent(event).length > DEFAULT_MAX_EVENT_BYTES) {
      throw new ApiError(413, 'payload_too_large', `the event would exceed ${DEFAULT_MAX_EVENT_BYTES} bytes`);
    }
    await this.publisher.send(InquiryCreated.topic.name, [toMessage(InquiryCreated, event)]);
    return { inquiryId: data.inquiryId, eventId: event.eventId, status: 'accepted' };
  }
}
