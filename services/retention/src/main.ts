import { bootstrapService } from '@veil/platform/service';

import { AppModule } from './app.module';
import { RetentionConfigSchema, validateRetentionConfig } from './config';

void bootstrapService({
  name: 'retention',
  configSchema: RetentionConfigSchema,
  module: (config) => AppModule.register(validateRetentionConfig(config)),
});
