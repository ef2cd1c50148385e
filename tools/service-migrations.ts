import type { Type } from '@nestjs/common';

/** Each service's own migrations (the messaging tables come first, from the platform). */
export const SERVICE_MIGRATIONS: Record<string, Type<unknown>[]> = {};
