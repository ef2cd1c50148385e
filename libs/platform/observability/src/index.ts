export * from './health';
export * from './metrics';
export * from './observability.module';
