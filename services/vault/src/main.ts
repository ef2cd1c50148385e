import { bootstrapService } from '@veil/platform/service';

import { AppModule } from './app.module';
import { VaultConfigSchema } from './config';

void bootstrapService({
  name: 'vault',
  configSchema: VaultConfigSchema,
  module: (config) => AppModule.register(config),
});
