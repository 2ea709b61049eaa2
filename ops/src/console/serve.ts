import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { buildManifest } from '@c2c/gateway/safelist';
import { sendStaticAsset, staticAsset, type StaticAsset } from '@c2c/platform/core';

/**
 * The ops console's registered operations (schema/operations/ops.*.graphql, by operation name).
 * The page fetches their exact text and manifest id from /ops/operations.json, so it sends only
 * registered documents and passes the safelist in every mode, `id-only` included.
 */
export const CONSOLE_OPERATIONS = [
  'Amendments',
  'AmendmentActivity',
  'Orders',
  'DeadLetters',
  'SyncBacklog',
  'ReconciliationTotals',
  'UsageReconciliation',
  'ReplayCrmDeadLetters',
  'ReplayBillingDeadLetters',
  'ReplayErpDeadLetters',
] as const;

const ASSETS: Record<string, { file: string; type: string }> = {
  '/ops': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ops/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ops/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ops/api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
  '/ops/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/ops/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
  '/ops/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * The page is public static content; every datum comes from /graphql with the bearer token the
 * user pasted. No inline script or style, nothing from another origin, no framing, no referrer
 * (the token never travels in a URL anyway).
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Small files: revalidate every time (ETag), so a deploy is seen at the next load.
  'cache-control': 'no-cache',
};

const asset = staticAsset;

export interface OpsConsoleOptions {
  /** The registered operations (schema/operations). */
  operationsDir: string;
  /** Where the console's files are; defaults to this module's directory. */
  assetsDir?: string;
}

/**
 * The ops console's route for `createGraphQLHttpServer({ routes })`: GET/HEAD `/ops` and its
 * assets, read once at start. Returns false for every other path.
 */
export function opsConsoleRoute(
  options: OpsConsoleOptions,
): (request: IncomingMessage, response: ServerResponse, url: URL) => boolean {
  const dir = options.assetsDir ?? import.meta.dirname;
  const byPath = new Map<string, StaticAsset>();
  for (const [path, { file, type }] of Object.entries(ASSETS))
    byPath.set(path, asset(readFileSync(join(dir, file)), type));
  const manifest = buildManifest(options.operationsDir);
  const operations: Record<string, { id: string; body: string }> = {};
  for (const name of CONSOLE_OPERATIONS) {
    const registered = manifest.operations.find((op) => op.name === name);
    if (!registered) throw new Error(`the ops console's operation ${name} is not registered`);
    operations[name] = { id: registered.id, body: registered.body };
  }
  byPath.set(
    '/ops/operations.json',
    asset(Buffer.from(JSON.stringify({ operations })), 'application/json; charset=utf-8'),
  );

  return (request, response, url) => {
    if (url.pathname !== '/ops' && !url.pathname.startsWith('/ops/')) return false;
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) response.setHeader(name, value);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.statusCode = 405;
      response.setHeader('allow', 'GET, HEAD');
      response.end();
      return true;
    }
    const found = byPath.get(url.pathname);
    if (!found) {
      response.statusCode = 404;
      response.setHeader('content-type', 'text/plain; charset=utf-8');
      response.end('not found');
      return true;
    }
    return sendStaticAsset(request, response, found);
  };
}
