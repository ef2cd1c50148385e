import { Global, Module, type DynamicModule } from '@nestjs/common';

import { HealthController, HealthRegistry } from './health';
import { MetricsService } from './metrics';

@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: { service: string }): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [HealthController],
      providers: [
        HealthRegistry,
        { provide: MetricsService, useFactory: () => new MetricsService(options.service) },
      ],
      exports: [HealthRegistry, MetricsService],
    };
  }
}
