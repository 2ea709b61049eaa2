import { createRequire } from 'node:module';
import type * as GraphQLModule from 'graphql';
import type * as InspectorModule from '@graphql-inspector/core';

// The trap this module exists for: graphql is loaded twice in this repository. Apollo's federation
// packages and @graphql-inspector/core (whose ESM build imports `graphql` through Node, which picks
// the CommonJS build) use graphql's CJS build, while an ESM `import … from 'graphql'` can get the .mjs
// build (Vitest resolves it so). Schemas from one instance fail `instanceof` checks in the other
// ("Cannot use GraphQLObjectType … from another module or realm"), so every check module takes
// graphql and the inspector from here: one CJS instance, shared with Apollo's.
const require = createRequire(import.meta.url);

/** graphql-js, the same (CommonJS) instance that @apollo/federation-internals uses. */
export const graphql = require('graphql') as typeof GraphQLModule;

/** @graphql-inspector/core, bound to the same graphql instance. */
export const inspector = require('@graphql-inspector/core') as typeof InspectorModule;
