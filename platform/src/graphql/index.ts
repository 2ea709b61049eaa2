export * from './graphql-server.ts';
export * from './scalars.ts';
export * from './request-context.ts';
export * from './audit.ts';
export * from './idempotency.ts';
export * from './payload.ts';
export * from './loaders.ts';
