import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '@c2c/platform/graphql';

// The messages a new user meets in the first hour, from the commands as they run them: each names
// the problem (and exits 2 for a wrong call, 1 for a failure), with no stack trace.
const ROOT = join(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'c2c-cli-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command run as npm would (node + tsx), in the repository, with a clean environment. */
function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = { ...process.env };
  for (const name of ['C2C_URL', 'C2C_TOKEN', 'PORT', 'DATA_DIR', 'DATABASE_URL']) delete base[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file, ...args],
      { cwd: ROOT, env: { ...base, DATA_DIR: join(dataDir, 'none'), ...env }, timeout: 45_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}
const c2c = (args: string[], env?: Record<string, string>) => run('cli/c2c.ts', args, env);
const npm = (args: string[], env: Record<string, string> = {}) =>
  new Promise<Run>((resolve) =>
    execFile(
      'npm',
      ['run', '--silent', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 45_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );

const STACK_TRACE = /^\s+at /m;

/** A port nothing listens on: one the system just gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const { port } = await listen(server, 0, '127.0.0.1');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let notGraphql: Server;
let notGraphqlUrl = '';
beforeAll(async () => {
  // What a user reaches with a URL whose path is not the GraphQL endpoint.
  notGraphql = createServer((_req, res) => {
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ errors: [{ message: 'not found' }] }));
  });
  notGraphqlUrl = (await listen(notGraphql, 0, '127.0.0.1')).url.replace(/\/graphql$/, '/');
});
afterAll(async () => {
  await new Promise<void>((resolve) => notGraphql.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run token: the token alone on stdout, what was done on stderr', () => {
  it('warns when it has to create the key, names the key file and DATA_DIR, and not again once it exists', async () => {
    const dir = join(dataDir, 'fresh');
    const first = await c2c(['token', '--role', 'portal'], { DATA_DIR: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/);
    expect(first.stderr).toMatch(
      /warning: there was no development issuer key in DATA_DIR .*fresh, so a new signing key was created/,
    );
    expect(first.stderr).toMatch(
      /A gateway already running with another DATA_DIR will reject this token \(401\)/,
    );
    expect(first.stderr).toContain(join(dir, 'dev-issuer.jwk.json'));
    const second = await c2c(['token', '--role', 'portal'], { DATA_DIR: dir });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^eyJ\S+\n$/);
    expect(second.stderr).not.toMatch(/warning/);
    expect(second.stderr).toMatch(
      new RegExp(
        `token for role portal, valid 8 h, signed with the development issuer key ${join(dir, 'dev-issuer.jwk.json')} \\(DATA_DIR ${dir}\\)`,
      ),
    );
    // The token never goes to stderr.
    expect(second.stderr).not.toContain(second.stdout.trim());
  });

  it('names a bad --role or --ttl and exits 2', async () => {
    const role = await c2c(['token', '--role', 'owner']);
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role must be one of portal, support, finance, admin/);
    const ttl = await c2c(['token', '--role', 'portal', '--ttl', '5']);
    expect(ttl.code).toBe(2);
    expect(ttl.stderr).toMatch(/--ttl must be whole seconds between 60 and 604800/);
  });
});

describe('npm run c2c: finding the gateway', () => {
  it('--help says where the URL comes from by default', async () => {
    const help = await c2c(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /default: C2C_URL, else http:\/\/localhost:\$PORT\/graphql\s+when PORT is set, else http:\/\/localhost:4000\/graphql/,
    );
  });

  it('a URL without http:// says it needs one', async () => {
    const answer = await c2c(['dead-letters', '--url', 'localhost:5300']);
    expect(answer.code).toBe(2);
    expect(answer.stderr).toMatch(
      /--url "localhost:5300" .*needs http:\/\/ or https:\/\/ in front, e\.g\. http:\/\/localhost:5300\/graphql/,
    );
  });

  it('a path that answers 404 says to point at …/graphql', async () => {
    const answer = await c2c(['dead-letters', '--url', notGraphqlUrl]);
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(
      /answered 404 Not Found: that is not the GraphQL endpoint\. Point --url \(or C2C_URL\) at …\/graphql, e\.g\. http:\/\/127\.0\.0\.1:\d+\/graphql/,
    );
    expect(answer.stderr).not.toMatch(STACK_TRACE);
  });

  it('connection refused on http://localhost:$PORT/graphql asks whether the stack is running', async () => {
    const port = await closedPort();
    const answer = await c2c(['reconcile'], { PORT: String(port) });
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain(
      `cannot reach the gateway at http://localhost:${port}/graphql: connection refused`,
    );
    expect(answer.stderr).toContain('Is the stack running? (npm start prints its URL');
  });

  it('C2C_URL wins over PORT', async () => {
    const port = await closedPort();
    const answer = await c2c(['dead-letters'], { PORT: '1', C2C_URL: `http://127.0.0.1:${port}/graphql` });
    expect(answer.stderr).toContain(`http://127.0.0.1:${port}/graphql`);
  });

  it('--token garbage says the token is not a JWT, without echoing it', async () => {
    const answer = await c2c(['dead-letters', '--token', 'garbage-token-value']);
    expect(answer.code).toBe(2);
    expect(answer.stderr).toMatch(/^--token is not a JWT/);
    expect(answer.stderr).not.toMatch(/pass --token/);
    expect(answer.stderr).not.toContain('garbage-token-value');
  });
});

describe('npm run c2c: usage errors exit 2 and name the problem', () => {
  it.each([
    [['bogus'], /unknown command "bogus"/],
    [['dead-letters', '--bogus'], /Unknown option '--bogus'/],
    [['dead-letters', '--first', 'abc'], /--first must be a whole number from 1 to 100, got "abc"/],
    [['dead-letters', '--first', '0'], /--first must be a whole number from 1 to 100, got "0"/],
    [['dead-letters', '--first', '101'], /--first must be a whole number from 1 to 100, got "101"/],
    [['dead-letters', '--first'], /--first.*argument missing/],
    [['replay', '--all'], /--system is required: give one of CRM, BILLING, ERP/],
    [['replay', '--system', 'HR', '--all'], /--system "HR" is not a system/],
    [['replay', '--system', 'ERP'], /say which dead letters: --id ID \(repeatable\) or --all/],
    [['replay', '--system', 'ERP', '--id', '1', '--all'], /give --id or --all, not both/],
    [['replay', '--system', 'ERP', '--id', 'x1'], /--id takes a dead letter's number .*got "x1"/],
    [['reconcile', '--from', '2026-13'], /--from\/--to must be months YYYY-MM/],
    [['reconcile', '--grace-minutes', 'soon'], /--grace-minutes must be a whole number/],
    [['safelist', '--bogus'], /Unknown option '--bogus'/],
    [
      ['db', 'setup', '--database-url', 'postgres://x@127.0.0.1/db', '--connection-limit', '1'],
      /--connection-limit must be a whole number from 2 to 10000/,
    ],
    [['db', 'teardown'], /unknown db command teardown/],
    [['schema', 'check', '--bogus'], /Unknown option '--bogus'/],
  ])('%j', async (args, message) => {
    const answer = await c2c(args);
    expect(answer.code, answer.stderr).toBe(2);
    expect(answer.stderr).toMatch(message);
    expect(answer.stderr).not.toMatch(STACK_TRACE);
  });

  it.each(['dead-letters', 'replay', 'reconcile', 'safelist', 'token', 'db', 'schema'])(
    '%s --help answers 0 with its usage',
    async (name) => {
      const answer = await c2c([name, '--help']);
      expect(answer.code).toBe(0);
      expect(answer.stdout).toMatch(/^Usage: npm run /);
    },
  );
});

describe('compose and schema:check: a wrong option is a usage message, not a stack trace', () => {
  it.each([['compose'], ['schema:check']])('npm run %s -- --bogus exits 2', async (script) => {
    const answer = await npm([script, '--', '--bogus']);
    expect(answer.code).toBe(2);
    expect(answer.stderr).toMatch(/^Unknown option '--bogus'\n\nUsage: npm run /);
    expect(answer.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('PostgreSQL down: where it tried, never the password, what to check', () => {
  it('npm start with an unreachable DATABASE_URL', async () => {
    const port = await closedPort();
    const answer = await run('apps/stack/start.ts', [], {
      DATABASE_URL: `postgres://alice:s3cret-pw@127.0.0.1:${port}/c2c`,
    });
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain(
      `could not connect to PostgreSQL at 127.0.0.1:${port} (database c2c, user alice): connection refused`,
    );
    expect(answer.stderr).toMatch(
      /Check that PostgreSQL is running and reachable there, and the host and port in DATABASE_URL/,
    );
    expect(answer.stderr + answer.stdout).not.toContain('s3cret-pw');
    expect(answer.stderr).not.toMatch(STACK_TRACE);
  });

  it('npm run c2c -- db setup with an unreachable server', async () => {
    const port = await closedPort();
    const answer = await c2c(['db', 'setup'], {
      DATABASE_URL: `postgres://admin:s3cret-pw@127.0.0.1:${port}/c2c`,
    });
    expect(answer.code).toBe(1);
    expect(answer.stderr).toContain(
      `could not connect to PostgreSQL at 127.0.0.1:${port} (database c2c, user admin)`,
    );
    expect(answer.stderr).not.toContain('s3cret-pw');
  });
});
