import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mintDevToken, type Role } from '@c2c/platform/auth';
import { UsageError } from './command.ts';
/** Options every command that talks to a running gateway accepts. */
export const GATEWAY_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const;

/** Where `npm start` serves the gateway when PORT is not set. */
export const DEFAULT_GATEWAY_URL = 'http://localhost:4000/graphql';

/**
 * --url, else C2C_URL, else http://localhost:$PORT/graphql when PORT is set, else the local stack's
 * gateway on port 4000. A URL without http:// or https:// is a usage error that says so.
 */
export function gatewayUrl(
  given: string | undefined,
  env: Record<string, string | undefined> = process.env,
): string {
  const [url, source] =
    given !== undefined
      ? [given, '--url']
      : env.C2C_URL
        ? [env.C2C_URL, 'C2C_URL']
        : env.PORT
          ? [`http://localhost:${env.PORT}/graphql`, 'PORT']
          : [DEFAULT_GATEWAY_URL, 'the default URL'];
  if (!/^https?:\/\//i.test(url)) {
    const suggestion = `http://${url.replace(/^\/+/, '')}${/\/graphql\/?$/.test(url) ? '' : '/graphql'}`;
    throw new UsageError(
      `${source} ${JSON.stringify(url)} is not a URL the CLI can call: it needs http:// or https:// in front, e.g. ${suggestion}`,
    );
  }
  try {
    new URL(url);
  } catch {
    throw new UsageError(
      `${source} ${JSON.stringify(url)} is not a valid URL: give the gateway's GraphQL endpoint, e.g. ${DEFAULT_GATEWAY_URL}`,
    );
  }
  return url;
}

/** Whether a string has the shape of a JWT: three base64url parts, the first a JSON header naming `alg`. */
export function looksLikeJwt(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p, i) => /^[A-Za-z0-9_-]*$/.test(p) && (i === 2 || p.length > 0)))
    return false;
  try {
    const header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8')) as unknown;
    return (
      typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

/**
 * The bearer token: --token, else C2C_TOKEN, else — on a development machine, where the local
 * stack's issuer key sits in DATA_DIR (./.data) — a short-lived token minted for `role`. A given
 * token that is not a JWT is a usage error (the token itself is never printed).
 */
export async function resolveToken(given: string | undefined, role: Role): Promise<string | undefined> {
  const [token, source] = given !== undefined ? [given, '--token'] : [process.env.C2C_TOKEN, 'C2C_TOKEN'];
  if (token) {
    if (!looksLikeJwt(token.trim()))
      throw new UsageError(
        `${source} is not a JWT (a JWT is three base64url parts separated by dots, header.payload.signature, and starts with eyJ): pass the token exactly as printed by \`npm run --silent token -- --role ${role}\` or by your issuer`,
      );
    return token.trim();
  }
  const dataDir = resolve(process.env.DATA_DIR ?? '.data');
  if (!existsSync(join(dataDir, 'dev-issuer.jwk.json'))) return undefined;
  return mintDevToken(dataDir, { role, subject: `cli-${role}`, ttlSeconds: 600 });
}

/** Why a request to the gateway did not get through, for an error the user can act on. */
export function describeFetchFailure(url: string, error: unknown): string {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[]; message?: string } })
    .cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (code === 'ECONNREFUSED')
    return `cannot reach the gateway at ${url}: connection refused. Is the stack running? (npm start prints its URL; pass it with --url or C2C_URL)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `cannot reach the gateway at ${url}: the host ${host} is not known. Check --url or C2C_URL`;
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return `cannot reach the gateway at ${url}: the connection timed out. Is the stack running there, and reachable from here?`;
  const detail = cause?.message || (error as Error).message || String(error);
  return `cannot reach the gateway at ${url} (${detail}). Is the stack running? (npm start prints its URL)`;
}

/**
 * What an HTTP answer without GraphQL data means: the wrong path (404), a refused token (401), a
 * missing scope (403), something that is not the gateway. `message` is the gateway's own error.
 */
export function describeHttpFailure(url: string, status: number, message: string | undefined): string {
  if (status === 404) {
    let endpoint = DEFAULT_GATEWAY_URL;
    try {
      endpoint = `${new URL(url).origin}/graphql`;
    } catch {
      // keep the default as the example
    }
    return `${url} answered 404 Not Found: that is not the GraphQL endpoint. Point --url (or C2C_URL) at …/graphql, e.g. ${endpoint}`;
  }
  if (status === 401)
    return `the gateway at ${url} refused the request (401): ${message ?? 'no valid bearer token'}. The CLI sends --token, else C2C_TOKEN, else a token minted from the development key in DATA_DIR (${resolve(process.env.DATA_DIR ?? '.data')}); against the local stack, run it in the repository folder where npm start runs`;
  if (status === 403)
    return `the gateway at ${url} refused the request (403): ${message ?? 'the token lacks a scope'}`;
  return `${url} answered HTTP ${status}${message ? `: ${message}` : ' without a GraphQL answer'}; is --url the gateway's …/graphql endpoint?`;
}

/** How long the CLI waits, in all, on the gateway's rate limit (429) before it gives up. */
export const RATE_LIMIT_PATIENCE_MS = 120_000;

/**
 * A GraphQL client for the gateway that throws on transport and GraphQL errors. A rate-limited
 * request (429, the caller's query-cost budget is spent) is sent again after the gateway's
 * Retry-After, with a note on stderr, for up to RATE_LIMIT_PATIENCE_MS in all: a long operator
 * command (reconcile pages through every document) slows to the budget instead of failing.
 */
export function gatewayClient(
  url: string,
  token?: string,
  options: { patienceMs?: number; note?: (line: string) => void; sleep?: (ms: number) => Promise<void> } = {},
) {
  const patience = options.patienceMs ?? RATE_LIMIT_PATIENCE_MS;
  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let waited = 0;
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    for (;;) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ query, variables }),
        });
      } catch (error) {
        throw new Error(describeFetchFailure(url, error), { cause: error });
      }
      const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: { message: string }[] };
      const message = body.errors?.map((e) => e.message).join('; ');
      if (response.status === 429) {
        const seconds = Math.min(60, Math.max(1, Number(response.headers.get('retry-after')) || 1));
        if (waited + seconds * 1000 <= patience) {
          note(`the gateway's rate limit for this token is spent; waiting ${seconds} s (Retry-After)…`);
          await sleep(seconds * 1000);
          waited += seconds * 1000;
          continue;
        }
        throw new Error(
          `${message ?? 'rate limited'} (429; gave up after waiting ${Math.round(waited / 1000)} s in all: raise RATE_LIMIT_COST_PER_MINUTE / RATE_LIMIT_BURST on the gateway, or run it later)`,
        );
      }
      if (response.status === 401 || response.status === 403 || response.status === 404)
        throw new Error(describeHttpFailure(url, response.status, message));
      if (message) throw new Error(message);
      if (!response.ok || body.data === undefined)
        throw new Error(describeHttpFailure(url, response.status, undefined));
      return body.data;
    }
  };
}
