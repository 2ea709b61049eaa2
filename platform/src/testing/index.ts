export * from './harness.ts';
export * from './property.ts';
