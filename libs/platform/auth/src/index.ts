export * from './api-key.guard';
export * from './auth-error';
export * from './api-keys';
export * from './key-registry';
export * from './rate-limiter';
export * from './access-grant';
