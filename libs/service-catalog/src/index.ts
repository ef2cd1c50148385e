export * from './catalog';
export { serviceDatabasePassword, type ServiceManifest } from '@veil/platform/service';
