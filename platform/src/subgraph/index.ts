export * from './runtime.ts';
export * from './main-helper.ts';
export * from './retention.ts';
export * from './env.ts';
