export * from './health';
export * from './metrics';
export * from './observability.module';
export * from './management-server';
