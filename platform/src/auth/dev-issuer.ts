import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';

/** Roles of the client contract and the scopes each grants (each operation in schema/operations/ is sent with one). */
export const ROLE_SCOPES = {
  portal: ['c2c:read'],
  support: ['c2c:read', 'c2c:amend'],
  finance: ['c2c:read', 'c2c:amend', 'c2c:finance'],
  admin: ['c2c:read', 'c2c:amend', 'c2c:finance', 'c2c:admin', 'c2c:sales'],
  /** A CRM user: reads everything; creates, wins and loses opportunities. */
  sales: ['c2c:read', 'c2c:sales'],
  // A product platform's machine client: reports usage (recordUsage), reads nothing.
  telemetry: ['c2c:usage'],
} as const;
export type Role = keyof typeof ROLE_SCOPES;
export const ROLES = Object.keys(ROLE_SCOPES) as Role[];

export const DEV_ISSUER = 'urn:c2c:dev-issuer';
export const DEV_AUDIENCE = 'c2c-supergraph';
const ALGORITHM = 'ES256';
/** Where a development token comes from, for the gateway's 401 answers when it runs on this issuer. */
export const DEV_TOKEN_HINT =
  'a development token comes from npm run --silent token -- --role portal, run in the repository folder with the DATA_DIR of the running stack';
/** The development issuer's key file in a data directory. */
export const DEV_ISSUER_KEY_FILE = 'dev-issuer.jwk.json';

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

async function newKey(): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALGORITHM },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' },
  };
}

/** The development issuer's signing key, created on first use in the data directory. */
export async function loadDevIssuerKey(dataDir: string): Promise<StoredKey> {
  return (await openDevIssuerKey(dataDir)).key;
}

/** The key of a data directory, its file, and whether this call had to create it. */
export interface DevIssuerKeyFile {
  key: StoredKey;
  path: string;
  created: boolean;
}

/** Like loadDevIssuerKey, and says which file it used and whether it created it (`npm run token`). */
export async function openDevIssuerKey(dataDir: string): Promise<DevIssuerKeyFile> {
  const path = join(dataDir, DEV_ISSUER_KEY_FILE);
  if (existsSync(path)) return { key: readStoredKey(path), path, created: false };
  const stored = await newKey();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(path, JSON.stringify(stored, null, 2), { mode: 0o600 });
  return { key: stored, path, created: true };
}

/** The key file, or an error that names it and says what to do. */
function readStoredKey(path: string): StoredKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the development issuer's key file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): give this process read access to it, or point DATA_DIR at a directory it owns`,
      { cause: error },
    );
  }
  try {
    const stored = JSON.parse(text) as Partial<StoredKey>;
    if (typeof stored.kid !== 'string' || !stored.privateJwk?.kty || !stored.publicJwk?.kty)
      throw new Error('kid, privateJwk or publicJwk missing');
    return stored as StoredKey;
  } catch (error) {
    throw new Error(
      `the development issuer's key file ${path} is corrupt (${(error as Error).message}): delete it to have a new key created at the next start (tokens signed with the old key stop working), or restore it from a backup`,
      { cause: error },
    );
  }
}

export interface MintOptions {
  role: Role;
  subject?: string;
  scopes?: string[];
  ttlSeconds?: number;
}

/** The development issuer: its public key set (for the gateway) and a minting function. */
export interface DevIssuer {
  jwks: JSONWebKeySet;
  mint(options: MintOptions): Promise<string>;
}

/** The dev issuer of a data directory, or an in-memory one (tests, in-memory stacks) when null. */
export async function devIssuer(dataDir: string | null): Promise<DevIssuer> {
  const key = dataDir ? await loadDevIssuerKey(dataDir) : await newKey();
  return { jwks: { keys: [key.publicJwk] }, mint: (options) => mintWithKey(key, options) };
}

/** Signs a development JWT for a role (scopes default to the role's). */
export async function mintDevToken(dataDir: string, options: MintOptions): Promise<string> {
  return mintWithKey(await loadDevIssuerKey(dataDir), options);
}

/** mintDevToken, also saying which key file signed and whether it was created just now. */
export async function mintDevTokenFrom(
  dataDir: string,
  options: MintOptions,
): Promise<{ token: string; keyPath: string; created: boolean }> {
  const { key, path, created } = await openDevIssuerKey(dataDir);
  return { token: await mintWithKey(key, options), keyPath: path, created };
}

async function mintWithKey(key: StoredKey, options: MintOptions): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, ALGORITHM);
  const scopes = options.scopes ?? [...ROLE_SCOPES[options.role]];
  return new SignJWT({ role: options.role, scope: scopes.join(' ') })
    .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setSubject(options.subject ?? `dev-${options.role}`)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 8 * 3600}s`)
    .sign(privateKey);
}
