export * from './bootstrap';
export * from './manifest';
export * from './service-modules';
export * from './http';
