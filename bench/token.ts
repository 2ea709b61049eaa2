import { join } from 'node:path';
import { mintDevToken, type Role } from '@c2c/platform/auth';
import { BENCH_DIR } from './processes.ts';

/** The development issuer's key directory of the bench (its key lives in `.bench/issuer/`). */
export const ISSUER_DIR = join(BENCH_DIR, 'issuer');

const cache = new Map<Role, string>();

/**
 * The bearer token every bench request carries. Minted by the local development issuer with a key
 * in the bench directory; our gateway verifies it against that key's JWKS, which the bench parent
 * serves over HTTP (security.ts, benchJwksUrl).
 */
export async function benchToken(role: Role = 'admin'): Promise<string> {
  let token = cache.get(role);
  if (!token) {
    token = await mintDevToken(ISSUER_DIR, { role, subject: `bench-${role}`, ttlSeconds: 6 * 3600 });
    cache.set(role, token);
  }
  return token;
}

export async function authHeaders(role: Role = 'admin'): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await benchToken(role)}` };
}

/**
 * `Authorization` values of `count` distinct principals of a role (subjects `bench-<role>-<i>`), as
 * many users would send: the read load rotates through them so that no system profits from one
 * caller's requests being identical.
 */
export async function principalAuthorizations(count: number, role: Role = 'portal'): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const token = await mintDevToken(ISSUER_DIR, {
      role,
      subject: `bench-${role}-${i}`,
      ttlSeconds: 6 * 3600,
    });
    out.push(`Bearer ${token}`);
  }
  return out;
}
