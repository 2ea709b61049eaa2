import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { noteStorageWrite, storageReady, STORAGE_PAUSE_MS } from '../src/core/connection-loss.ts';
import { openDatabase } from '../src/db/db.ts';
import { loadDevIssuerKey } from '../src/auth/dev-issuer.ts';
import { formatError } from '../src/graphql/graphql-server.ts';

// Issue 20 (i): a full or read-only disk answers a retriable code and makes the process not ready
// until a write succeeds again; unreadable or corrupt files at start are named, with what to do.

describe('storage refusing writes', () => {
  it.each([
    [
      'disk full (53100)',
      Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' }),
    ],
    ['ENOSPC', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })],
    [
      'a read-only file system',
      Object.assign(new Error('EROFS: read-only file system, open'), { code: 'EROFS' }),
    ],
    [
      'a read-only transaction (25006)',
      Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }),
    ],
  ])('answers SERVICE_UNAVAILABLE for %s, not ready until a write succeeds', (_, cause) => {
    noteStorageWrite();
    expect(storageReady()).toBe(true);
    const formatted = formatError(
      { message: 'x', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      new GraphQLError('x', { originalError: cause }),
    );
    expect(formatted.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 15 });
    expect(formatted.message).toMatch(/disk full or read-only\); retry later/);
    expect(storageReady()).toBe(false);
    expect(storageReady(Date.now() + STORAGE_PAUSE_MS + 1)).toBe(true);
    noteStorageWrite();
    expect(storageReady()).toBe(true);
  });
});

describe('startup errors name the file and what to do', () => {
  it('a corrupt key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2c-key-'));
    for (const content of ['{"kid": "x", "privateJwk": ', '{}', '\u0000\u0001garbage']) {
      writeFileSync(join(dir, 'dev-issuer.jwk.json'), content);
      await expect(loadDevIssuerKey(dir)).rejects.toThrow(
        new RegExp(`key file ${join(dir, 'dev-issuer.jwk.json')} is corrupt .*delete it`),
      );
    }
  });

  it('a key file that is a directory (unreadable)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2c-key-'));
    mkdirSync(join(dir, 'dev-issuer.jwk.json'));
    await expect(loadDevIssuerKey(dir)).rejects.toThrow(
      /cannot read the development issuer's key file .*EISDIR/,
    );
  });

  it('a corrupt database directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2c-data-'));
    mkdirSync(join(dir, 'pgdata'));
    writeFileSync(join(dir, 'pgdata', 'PG_VERSION'), 'not a version\n');
    writeFileSync(join(dir, 'pgdata', 'postgresql.conf'), '\u0000\u0000');
    await expect(openDatabase({ kind: 'pglite', dataDir: dir })).rejects.toThrow(
      new RegExp(`cannot open the database in ${join(dir, 'pgdata')} .*restore the directory from a backup`),
    );
  });

  it('a data directory that cannot be created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'c2c-data-'));
    writeFileSync(join(dir, 'file'), 'x');
    await expect(openDatabase({ kind: 'pglite', dataDir: join(dir, 'file', 'data') })).rejects.toThrow(
      /cannot create the data directory .*file\/data \(ENOTDIR\)/,
    );
  });
});
