export * from './authorization.ts';
export * from './dev-issuer.ts';
export * from './request-signing.ts';
