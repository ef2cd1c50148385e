export * from './config';
export * from './infra-env';
