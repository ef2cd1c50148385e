export * from './data-source';
export * from './database.module';
export * from './provision';
export * from './tenant-scope';
