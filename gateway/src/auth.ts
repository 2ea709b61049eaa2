import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import type { Principal } from './principal.ts';
import { VerifiedTokenCache } from './token-cache.ts';

export type { Principal };

export interface AuthConfig {
  issuer: string;
  audience: string;
  /** An OIDC issuer's JWKS URL (production), or… */
  jwksUrl?: string;
  /** …a local key set (the development issuer). */
  jwks?: JSONWebKeySet;
  /** Pinned signature algorithms (RFC 8725: never accept what the token header asks for). */
  algorithms: string[];
  /** Allowed clock skew in seconds; at most 60. */
  clockToleranceSeconds: number;
  /**
   * Where a caller gets a token, appended to the answers for a missing token and a foreign key
   * (the gateway on the development issuer names `npm run token`).
   */
  tokenHint?: string;
  /**
   * How many verified tokens to remember so that their next requests skip signature verification
   * (token-cache.ts); 0 verifies every request. Default 10,000.
   */
  verifiedTokenCacheSize?: number;
}

/** Default of `AuthConfig.verifiedTokenCacheSize`. */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/**
 * A verified token is served from the cache for at most this long after its verification (and
 * never past its `exp`), so a signing key the issuer withdraws stops being honoured at most this
 * much later than without the cache: the remote key set itself is cached by jose for up to
 * JWKS_MAX_AGE_MS, and the cached tokens never consult it.
 */
export const VERIFIED_TOKEN_MAX_AGE_MS = 60_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;

/** Test seams: the clock (epoch ms) and a callback per cache lookup (the metrics). */
export interface AuthenticatorOptions {
  now?: () => number;
  onCacheLookup?: (hit: boolean) => void;
}

/**
 * Why a request was not admitted. `missing`: no bearer token was sent at all (no header, another
 * scheme such as Basic, or the token without the word Bearer), so RFC 6750 wants no error code in
 * `www-authenticate`; `invalid`: a bearer token was sent and refused (`error="invalid_token"`).
 */
export type AuthFailure = {
  ok: false;
  code: 'UNAUTHENTICATED';
  kind: 'missing' | 'invalid';
  /** For the client: what was wrong and what to do; never the token or key material. */
  message: string;
  /** For the logs: the verifier's own words. */
  reason: string;
};
export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/**
 * Verifies bearer tokens with jose: signature against the issuer's keys (a remote JWKS is fetched
 * with a cooldown, so a flood of unknown `kid`s costs at most one fetch per 30 s), pinned
 * algorithms, issuer, audience, expiry and not-before with bounded skew, and `typ: JWT`.
 *
 * A token that passed is remembered by the SHA-256 of its exact text (VerifiedTokenCache) until
 * its `exp` or VERIFIED_TOKEN_MAX_AGE_MS after verification, whichever is first; its next requests
 * skip the signature check. Every check passed depends only on the token's bytes, the configuration
 * and the time, and the time is checked again at every hit (never served at or after `exp`, where
 * jose would still grant the clock tolerance). Refusals are not cached.
 */
export function createAuthenticator(
  config: AuthConfig,
  options: AuthenticatorOptions = {},
): (authorization: string | undefined) => Promise<AuthResult> {
  const now = options.now ?? Date.now;
  if (config.clockToleranceSeconds < 0 || config.clockToleranceSeconds > 60) {
    throw new Error('clock tolerance must be between 0 and 60 seconds');
  }
  if (
    config.algorithms.length === 0 ||
    config.algorithms.some((a) => a.toLowerCase() === 'none' || a.startsWith('HS'))
  ) {
    throw new Error('pin asymmetric signature algorithms (e.g. ES256, RS256); none and HS* are refused');
  }
  const keys: JWTVerifyGetKey = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), {
        cooldownDuration: 30_000,
        timeoutDuration: 5_000,
        cacheMaxAge: JWKS_MAX_AGE_MS,
      })
    : config.jwks
      ? createLocalJWKSet(config.jwks)
      : (() => {
          throw new Error('an issuer needs a JWKS URL or a local key set');
        })();

  const cache = new VerifiedTokenCache(config.verifiedTokenCacheSize ?? VERIFIED_TOKEN_CACHE_SIZE);

  return async (authorization) => {
    const header = parseAuthorization(authorization);
    if (!header.ok) return fail(header.kind, withHint(header.message, config.tokenHint), header.reason);
    const key = cache.capacity > 0 ? VerifiedTokenCache.keyOf(header.token) : null;
    if (key !== null) {
      const cached = cache.get(key, now());
      options.onCacheLookup?.(cached !== undefined);
      if (cached) return { ok: true, principal: cached };
    }
    try {
      const verifiedAt = now();
      const { payload } = await jwtVerify(header.token, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSeconds,
        currentDate: new Date(verifiedAt),
        typ: 'JWT',
        requiredClaims: ['sub', 'exp'],
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      const role = typeof payload.role === 'string' ? payload.role : null;
      // Frozen: the cache hands the same principal to every request carrying this token.
      const principal: Principal = Object.freeze({
        sub: payload.sub as string,
        role,
        scopes: Object.freeze(scopes) as string[],
      });
      if (key !== null)
        cache.set(
          key,
          principal,
          Math.min((payload.exp as number) * 1000, verifiedAt + VERIFIED_TOKEN_MAX_AGE_MS),
          verifiedAt,
        );
      return { ok: true, principal };
    } catch (error) {
      return fail('invalid', explain(error, config), describe(error));
    }
  };
}

type ParsedHeader =
  { ok: true; token: string } | { ok: false; kind: AuthFailure['kind']; message: string; reason: string };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The token of an `Authorization: Bearer <token>` header (the scheme is case-insensitive, RFC 7235),
 * or what is wrong with the header, in words a caller can act on. Never echoes the header.
 */
export function parseAuthorization(authorization: string | undefined): ParsedHeader {
  const value = (authorization ?? '').trim();
  if (value === '')
    return {
      ok: false,
      kind: 'missing',
      message: 'no bearer token: send the header Authorization: Bearer <token>',
      reason: 'no bearer token',
    };
  const [scheme = '', ...rest] = value.split(/\s+/);
  if (scheme.toLowerCase() !== 'bearer') {
    // Name the scheme only when there is one (a word before credentials): a lone word may be a token.
    const named = rest.length > 0 && /^[A-Za-z][A-Za-z0-9-]{0,19}$/.test(scheme);
    return {
      ok: false,
      kind: 'missing',
      message: named
        ? `the Authorization header uses the ${scheme} scheme; this API takes only Authorization: Bearer <token>`
        : 'the Authorization header is not Bearer <token> (is the word Bearer missing before the token?): send Authorization: Bearer <token>',
      reason: named ? `${scheme} scheme` : 'no scheme',
    };
  }
  const token = rest.join(' ');
  if (token === '')
    return {
      ok: false,
      kind: 'missing',
      message:
        'the Authorization header says Bearer but carries no token: send Authorization: Bearer <token>',
      reason: 'empty bearer token',
    };
  if (rest.length > 1 || !JWT_SHAPE.test(token))
    return {
      ok: false,
      kind: 'invalid',
      message:
        'the bearer token is not a JWT (a JWT is three base64url parts separated by dots, header.payload.signature): send the token exactly as your issuer gave it',
      reason: 'not a JWT',
    };
  return { ok: true, token };
}

function fail(kind: AuthFailure['kind'], message: string, reason: string): AuthFailure {
  return { ok: false, code: 'UNAUTHENTICATED', kind, message, reason };
}

function withHint(message: string, hint: string | undefined): string {
  return hint ? `${message} (${hint})` : message;
}

/** Only printable ASCII without quotes or backslashes: safe in a header's quoted-string. */
function printable(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/**
 * What a caller can act on, for each way a token fails verification. Names the claim, the expected
 * issuer or audience (configuration, not secrets) and the expiry time; never the token or a key.
 */
function explain(error: unknown, config: AuthConfig): string {
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === 'number' ? new Date(error.payload.exp * 1000) : null;
    const when = exp && !Number.isNaN(exp.getTime()) ? ` at ${exp.toISOString()}` : '';
    return `the bearer token expired${when}: get a new token from your issuer`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return `the bearer token is for another audience: this API accepts tokens whose aud is ${printable(config.audience)}`;
      case 'iss':
        return `the bearer token comes from another issuer: this API accepts tokens whose iss is ${printable(config.issuer)}`;
      case 'nbf':
        return 'the bearer token is not valid yet (its nbf is in the future): check the clocks of the issuer and the client';
      case 'typ':
        return 'the bearer token is not an access JWT: its header must say typ JWT';
      case 'sub':
      case 'exp':
        return `the bearer token has no ${error.claim} claim, which this API requires`;
      default:
        return `the bearer token's ${printable(error.claim).slice(0, 40)} claim is invalid`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return `the bearer token is signed with an algorithm this API does not accept (accepted: ${config.algorithms.join(', ')})`;
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey)
    return withHint(
      "the bearer token's signature does not match any signing key of this API's issuer: it was signed by another issuer or with another key",
      config.tokenHint,
    );
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid)
    return "the issuer's signing keys could not be fetched to verify the bearer token: try again shortly";
  if (
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JOSENotSupported
  )
    return 'the bearer token is not a well-formed JWT (its header or payload is not valid JSON, or names no usable algorithm): send the token exactly as your issuer gave it';
  return 'the bearer token could not be verified';
}

/** A short reason for logs. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `claim ${error.claim} invalid (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no matching key';
  if (error instanceof errors.JWKSTimeout) return 'key set fetch timed out';
  return error instanceof Error ? error.message : 'invalid token';
}

/** The realm named in `www-authenticate`. */
export const AUTH_REALM = 'c2c';

/**
 * The `www-authenticate` value of a refusal (RFC 6750 §3): no error code when no bearer token was
 * sent; `invalid_token` with a description when one was refused; `insufficient_scope` (403) with
 * the scopes that would do.
 */
export function wwwAuthenticate(refusal: {
  kind: AuthFailure['kind'] | 'insufficient_scope';
  message?: string;
  scope?: string;
}): string {
  const realm = `Bearer realm="${AUTH_REALM}"`;
  if (refusal.kind === 'missing') return realm;
  const error = refusal.kind === 'invalid' ? 'invalid_token' : 'insufficient_scope';
  const description = refusal.message ? `, error_description="${printable(refusal.message)}"` : '';
  const scope = refusal.scope ? `, scope="${printable(refusal.scope)}"` : '';
  return `${realm}, error="${error}"${description}${scope}`;
}
