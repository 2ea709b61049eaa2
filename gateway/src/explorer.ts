import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { GatewayExtension } from './extension.ts';
import { sendStaticAsset, staticAsset, type StaticAsset } from '@c2c/platform/core';

/**
 * The explorer page's headers: like the ops console's, every script and style from this origin
 * (GraphiQL, React and the page's own script are served below from node_modules: no CDN, works
 * offline), data only from this origin's /graphql, no framing, no referrer. GraphiQL draws icons as
 * data: URLs; fonts are the system's.
 */
export const EXPLORER_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Path under /graphiql → [package-relative file or our own file, content type]. */
const FILES: Record<string, { module?: string; own?: string; type: string }> = {
  '/graphiql': { own: 'index.html', type: 'text/html; charset=utf-8' },
  '/graphiql/': { own: 'index.html', type: 'text/html; charset=utf-8' },
  '/graphiql/app.js': { own: 'app.js', type: JS },
  '/graphiql/explorer.css': { own: 'explorer.css', type: CSS },
  '/graphiql/graphiql.min.js': { module: 'graphiql/graphiql.min.js', type: JS },
  '/graphiql/graphiql.min.css': { module: 'graphiql/graphiql.min.css', type: CSS },
  '/graphiql/react.production.min.js': { module: 'react/umd/react.production.min.js', type: JS },
  '/graphiql/react-dom.production.min.js': { module: 'react-dom/umd/react-dom.production.min.js', type: JS },
};

/** The explorer's files, or why they are missing (GraphiQL and React 18 are development dependencies of the gateway). */
function loadAssets(): Map<string, StaticAsset> | string {
  const require = createRequire(import.meta.url);
  const assets = new Map<string, StaticAsset>();
  for (const [path, { module, own, type }] of Object.entries(FILES)) {
    let file: string;
    try {
      // By the package's folder: React's `exports` do not list its UMD builds.
      const [scope, ...rest] = (module ?? '').split('/');
      file = module
        ? join(dirname(require.resolve(`${scope}/package.json`)), ...rest)
        : join(import.meta.dirname, 'explorer', own!);
      assets.set(path, staticAsset(readFileSync(file), type));
    } catch {
      return `the explorer's file ${module ?? own} is not installed: run npm ci (GraphiQL is a development dependency of the gateway)`;
    }
  }
  return assets;
}

/**
 * A development GraphQL explorer: GraphiQL at /graphiql, and / redirecting there. For development
 * only — a composition root mounts it unless NODE_ENV=production (introspection, which it needs for
 * its docs and autocompletion, is off in production anyway). Its requests go to /graphql like any
 * client's, with the bearer token pasted on the page.
 */
export function explorerExtension(): GatewayExtension {
  const assets = loadAssets();
  return {
    routes: (request, response, url) => {
      if (url.pathname === '/') {
        response.statusCode = 302;
        response.setHeader('location', '/graphiql');
        response.end();
        return true;
      }
      if (url.pathname !== '/graphiql' && !url.pathname.startsWith('/graphiql/')) return false;
      for (const [name, value] of Object.entries(EXPLORER_HEADERS)) response.setHeader(name, value);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.statusCode = 405;
        response.setHeader('allow', 'GET, HEAD');
        response.end();
        return true;
      }
      const found = typeof assets === 'string' ? undefined : assets.get(url.pathname);
      if (!found) {
        response.statusCode = typeof assets === 'string' ? 503 : 404;
        response.setHeader('content-type', 'text/plain; charset=utf-8');
        response.end(typeof assets === 'string' ? assets : 'not found');
        return true;
      }
      return sendStaticAsset(request, response, found);
    },
  };
}
