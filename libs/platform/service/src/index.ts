export * from './bootstrap';
export * from './catalog';
export * from './service-modules';
