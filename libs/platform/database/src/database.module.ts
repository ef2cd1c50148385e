import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HealthRegistry } from '@veil/platform/observability';
import { DataSource } from 'typeorm';

import {
  createServiceDataSource,
  initializeWithRetry,
  pingDatabase,
  runMigrations,
  type ServiceDatabaseOptions,
} from './data-source';

export interface DatabaseModuleOptions extends ServiceDatabaseOptions {
  /** Apply pending migrations at boot (under an advisory lock, so replicas take turns). */
  migrateOnBoot: boolean;
}

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  // onApplicationShutdown runs after every beforeApplicationShutdown hook: consumers have drained.
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          inject: [HealthRegistry],
          useFactory: async (health: HealthRegistry) => {
            const dataSource = await initializeWithRetry(createServiceDataSource(options));
            if (options.migrateOnBoot) await runMigrations(dataSource);
            health.register('database', () => pingDatabase(dataSource));
            return dataSource;
          },
        },
        DatabaseLifecycle,
      ],
      exports: [DataSource],
    };
  }
}
