export * from './log-format';
export * from './merkle';
