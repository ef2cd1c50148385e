export * from './api-error';
export * from './body';
export * from './error-filter';
export * from './request-id';
export * from './service-token.guard';
export * from './internal-client';
export * from './caller.guard';
