import { bootstrapService } from '@veil/platform/service';

import { AppModule } from './app.module';
import { IngestConfigSchema } from './config';

void bootstrapService({
  name: 'ingest',
  configSchema: IngestConfigSchema,
  module: (config) => AppModule.register(config),
});
