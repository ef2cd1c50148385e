import { Inject, Injectable } from '@nestjs/common';

import { RETENTION_CONFIG, type RetentionConfig } from '../config';

/** The retention service's time: the real one, or (test builds only) that far ahead. */
@Injectable()
export class Clock {
  private readonly offsetMs: number;

  constructor(@Inject(RETENTION_CONFIG) config: RetentionConfig) {
    this.offsetMs = config.RETENTION_TEST_CLOCK_OFFSET_MS;
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}
