export * from './bootstrap';
export * from './catalog';
export * from './service-modules';
export * from './http';
