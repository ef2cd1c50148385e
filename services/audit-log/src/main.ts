import { bootstrapService } from '@veil/platform/service';

import { AppModule } from './app.module';
import { AuditLogConfigSchema } from './config';

void bootstrapService({
  name: 'audit-log',
  configSchema: AuditLogConfigSchema,
  module: (config) => AppModule.register(config),
});
