import { Module } from '@nestjs/common';

import { AuditLogClient } from './audit-log.client';
import { AuditLogController } from './audit-log.controller';

/** Customer access to the audit log: queries, proofs and exports through the audit-log service. */
@Module({
  controllers: [AuditLogController],
  providers: [AuditLogClient],
})
export class AuditLogModule {}
