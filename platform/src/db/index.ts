export * from './db.ts';
export * from './pglite-dialect.ts';
export * from './data-dir-lock.ts';
export * from './migrations.ts';
export * from './connect-errors.ts';
export * from './held-inserts.ts';
