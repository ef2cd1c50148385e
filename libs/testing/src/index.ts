export * from './canary-scanner';
export * from './checker';
export * from './database';
export * from './eventually';
export * from './ids';
export * from './kafka';
export * from './private-postgres';
export * from './process';
