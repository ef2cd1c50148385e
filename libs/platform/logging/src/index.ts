export * from './json-logger';
export * from './redact';
