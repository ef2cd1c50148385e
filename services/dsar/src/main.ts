import { bootstrapService } from '@veil/platform/service';

import { AppModule } from './app.module';
import { DsarConfigSchema } from './config';

void bootstrapService({
  name: 'dsar',
  configSchema: DsarConfigSchema,
  module: (config) => AppModule.register(config),
});
