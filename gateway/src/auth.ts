import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';

/** Who is calling, from a verified token. */
export interface Principal {
  sub: string;
  role: string | null;
  scopes: string[];
}

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
}

export type AuthFailure = { ok: false; code: 'UNAUTHENTICATED'; reason: string };
export type AuthResult = { ok: true; principal: Principal } | AuthFailure;

/**
 * Verifies bearer tokens with jose: signature against the issuer's keys (a remote JWKS is fetched
 * with a cooldown, so a flood of unknown `kid`s costs at most one fetch per 30 s), pinned
 * algorithms, issuer, audience, expiry and not-before with bounded skew, and `typ: JWT`.
 */
export function createAuthenticator(
  config: AuthConfig,
): (authorization: string | undefined) => Promise<AuthResult> {
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
    ? createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 })
    : config.jwks
      ? createLocalJWKSet(config.jwks)
      : (() => {
          throw new Error('an issuer needs a JWKS URL or a local key set');
        })();

  return async (authorization) => {
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization ?? '');
    if (!match)
      return fail(authorization ? 'the Authorization header is not "Bearer <JWT>"' : 'no bearer token');
    try {
      const { payload } = await jwtVerify(match[1] as string, keys, {
        issuer: config.issuer,
        audience: config.audience,
        algorithms: config.algorithms,
        clockTolerance: config.clockToleranceSeconds,
        typ: 'JWT',
        requiredClaims: ['sub', 'exp'],
      });
      const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [];
      const role = typeof payload.role === 'string' ? payload.role : null;
      return { ok: true, principal: { sub: payload.sub as string, role, scopes } };
    } catch (error) {
      return fail(describe(error));
    }
  };
}

function fail(reason: string): AuthFailure {
  return { ok: false, code: 'UNAUTHENTICATED', reason };
}

/** A short reason for logs; clients only ever see UNAUTHENTICATED. */
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
