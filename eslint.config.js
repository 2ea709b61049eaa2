// @ts-check
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import YAML from 'yaml';

/** The subgraphs of rover.yaml: the one list, read here too so a new subgraph gets its boundary. */
const SUBGRAPHS = Object.keys(
  YAML.parse(readFileSync(fileURLToPath(import.meta.resolve('./rover.yaml')), 'utf8')).subgraphs,
);

/**
 * The platform's layers and what each may import (downwards only): core ← observability ← db ←
 * events; auth on core; graphql on core, auth, observability and db; subgraph (the runtime) on all
 * of them; testing on everything.
 */
const PLATFORM_LAYERS = {
  core: [],
  auth: ['core'],
  observability: ['core'],
  db: ['core', 'observability'],
  events: ['core', 'observability', 'db'],
  graphql: ['core', 'auth', 'observability', 'db'],
  subgraph: ['core', 'auth', 'observability', 'db', 'events', 'graphql'],
  testing: ['core', 'auth', 'observability', 'db', 'events', 'graphql', 'subgraph'],
};
const PLATFORM_OUTSIDE = [
  ...SUBGRAPHS.map((s) => `@c2c/${s}`),
  '@c2c/gateway',
  '**/subgraphs/**',
  '**/gateway/**',
];

/**
 * Subgraphs whose domain services reach their system of record through a port: the repositories
 * of the records the port's adapters keep (the built-in adapter uses them, the domain may not).
 */
const SYSTEM_OF_RECORD_PORTS = {
  customer: {
    port: 'CrmPort',
    records: 'accounts, contract values and opportunities',
    repositories: ['customer', 'contract', 'opportunity'],
  },
  subscription: {
    port: 'BillingPort',
    records: 'plans, bill-to customers, subscriptions, invoices and credit notes',
    repositories: ['plan', 'subscription', 'invoice', 'bill-to'],
  },
};

/** Import boundaries: gateway, ops and platform import no subgraph; platform layers import downwards. */
const boundary = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }],
  },
});

export default tseslint.config(
  { ignores: ['**/node_modules/**', '.data/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['**/test/**/*.ts', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  ...SUBGRAPHS.flatMap((name) => {
    const crossing = {
      group: [
        ...SUBGRAPHS.filter((other) => other !== name).flatMap((other) => [
          `@c2c/${other}`,
          `**/${other}/src/**`,
          `**/subgraphs/${other}/**`,
        ]),
        '@c2c/gateway',
        '**/gateway/src/**',
      ],
      message: `subgraph ${name} may import only @c2c/platform and its own code: cross-domain reads go through the supergraph, reactions through events`,
    };
    // Resolvers and consumers reach data through domain services (and the request's loaders):
    // a repository value is off limits, its row types are not. A later entry for the same files
    // replaces the rule's options, so this one repeats the crossing patterns.
    const throughServices = {
      group: ['**/data/**'],
      allowTypeImports: true,
      message:
        'resolvers and consumers call domain services, never a repository (docs/architecture.md): type-only imports of row types are fine',
    };
    const port = SYSTEM_OF_RECORD_PORTS[name];
    // Domain services reach the system of record through its port (docs/adapters.md): the
    // repositories of the records an adapter keeps are off limits there, their row types are not.
    const throughPort = port && {
      group: port.repositories.map((repository) => `**/data/${repository}.repository*`),
      allowTypeImports: true,
      message: `domain services reach ${port.records} through ${port.port} (src/ports/, docs/adapters.md), never its repositories: type-only imports of row types are fine`,
    };
    return [
      {
        files: [`subgraphs/${name}/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns: [crossing] }] },
      },
      {
        files: [`subgraphs/${name}/src/resolvers/**/*.ts`, `subgraphs/${name}/src/consumers/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns: [crossing, throughServices] }] },
      },
      ...(throughPort
        ? [
            {
              files: [`subgraphs/${name}/src/domain/**/*.ts`],
              rules: { 'no-restricted-imports': ['error', { patterns: [crossing, throughPort] }] },
            },
          ]
        : []),
    ];
  }),
  boundary(
    ['gateway/**/*.ts'],
    [
      ...SUBGRAPHS.map((s) => `@c2c/${s}`),
      '**/subgraphs/**',
      '@c2c/ops',
      '@c2c/ops/*',
      '**/ops/src/**',
      '**/apps/**',
    ],
    'the gateway imports no subgraph (it knows them only through the supergraph), and no ops or app code: composition roots add those',
  ),
  boundary(
    ['ops/**/*.ts'],
    [...SUBGRAPHS.map((s) => `@c2c/${s}`), '**/subgraphs/**', '**/apps/**'],
    'ops reads the systems only through the gateway: it imports no subgraph and no composition root',
  ),
  ...Object.entries(PLATFORM_LAYERS).map(([layer, allowed]) =>
    boundary(
      [`platform/src/${layer}/**/*.ts`],
      [
        ...PLATFORM_OUTSIDE,
        ...Object.keys(PLATFORM_LAYERS)
          .filter((other) => other !== layer && !allowed.includes(other))
          .flatMap((other) => [`../${other}/*`, `@c2c/platform/${other}`, `@c2c/platform/${other}/*`]),
      ],
      `platform/${layer} may import only ${allowed.length ? allowed.map((a) => `platform/${a}`).join(', ') : 'Node.js and npm packages'}: layers import downwards (docs/architecture.md), and the platform imports no domain or gateway code`,
    ),
  ),
  boundary(
    ['platform/test/**/*.ts', 'platform/src/*.ts'],
    PLATFORM_OUTSIDE,
    'platform/ is the shared library and imports no domain or gateway code',
  ),
);
