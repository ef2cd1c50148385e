import { bootstrapService } from '@veil/platform/service';

import { AppModule } from './app.module';
import { ApiConfigSchema, validateApiConfig } from './config';

void bootstrapService({
  name: 'api',
  configSchema: ApiConfigSchema,
  module: (config) => AppModule.register(validateApiConfig(config)),
});
