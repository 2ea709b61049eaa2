import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mintDevToken, type Role } from '@c2c/platform/auth';
/** Options every command that talks to a running gateway accepts. */
export const GATEWAY_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
} as const;

/** --url, else C2C_URL, else the local stack's gateway. */
export function gatewayUrl(given: string | undefined): string {
  return given ?? process.env.C2C_URL ?? 'http://127.0.0.1:4000/graphql';
}

/**
 * The bearer token: --token, else C2C_TOKEN, else — on a development machine, where the local
 * stack's issuer key sits in DATA_DIR (./.data) — a short-lived token minted for `role`.
 */
export async function resolveToken(given: string | undefined, role: Role): Promise<string | undefined> {
  if (given) return given;
  if (process.env.C2C_TOKEN) return process.env.C2C_TOKEN;
  const dataDir = resolve(process.env.DATA_DIR ?? '.data');
  if (!existsSync(join(dataDir, 'dev-issuer.jwk.json'))) return undefined;
  return mintDevToken(dataDir, { role, subject: `cli-${role}`, ttlSeconds: 600 });
}

/** A GraphQL client for the gateway that throws on transport and GraphQL errors. */
export function gatewayClient(url: string, token?: string) {
  return async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
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
      throw new Error(
        `cannot reach the gateway at ${url} (${(error as Error).message}); is the stack running (npm start)?`,
      );
    }
    const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: { message: string }[] };
    if (response.status === 401)
      throw new Error(
        'the gateway wants a valid token: pass --token, set C2C_TOKEN, or run `npm run token -- --role finance`',
      );
    if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
    if (!response.ok || body.data === undefined) throw new Error(`gateway answered HTTP ${response.status}`);
    return body.data;
  };
}
