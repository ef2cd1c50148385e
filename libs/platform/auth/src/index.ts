export * from './api-key.guard';
export * from './api-keys';
export * from './key-registry';
export * from './rate-limit.guard';
export * from './access-grant';
