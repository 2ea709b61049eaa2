import { defineConfig } from 'vitest/config';

// Projects by suffix: unit (pure: no database, server, child process or tool run), tools (ESLint and
// the CLI run for real), int (database), e2e (servers over HTTP: gateway, subgraphs, test servers).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          // Pure tests share no state, so one module graph per worker: each library is imported once
          // per worker, not once per file.
          isolate: false,
          exclude: [
            '**/node_modules/**',
            'bench/**',
            '**/*.int.test.ts',
            '**/*.e2e.test.ts',
            '**/*.tool.test.ts',
          ],
        },
      },
      {
        // The benchmark's own tests: its argument parsing, report and security harness.
        test: { name: 'bench', include: ['bench/**/*.test.ts'], exclude: ['**/node_modules/**'] },
      },
      {
        // Real tools run as a user runs them: ESLint on snippets, the CLI in child processes.
        test: {
          name: 'tools',
          include: ['**/*.tool.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          setupFiles: ['test/support/event-contracts.setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          setupFiles: ['test/support/event-contracts.setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
