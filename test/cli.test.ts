import { describe, expect, it } from 'vitest';
import { describePostgresConnectError } from '@c2c/platform/db/errors';
import { parseOptions, UsageError, wholeNumber } from '../cli/lib/command.ts';
import {
  describeFetchFailure,
  describeHttpFailure,
  gatewayUrl,
  looksLikeJwt,
} from '../cli/lib/gateway-client.ts';

// The pure parts of the first-hour messages: where the CLI finds the gateway, what it says when it
// cannot, and what `npm start` says when PostgreSQL is not there.

describe('the gateway URL', () => {
  it('is --url, else C2C_URL, else localhost:$PORT, else localhost:4000', () => {
    const env = { C2C_URL: 'https://c2c.example/graphql', PORT: '5300' };
    expect(gatewayUrl('http://a:1/graphql', env)).toBe('http://a:1/graphql');
    expect(gatewayUrl(undefined, env)).toBe('https://c2c.example/graphql');
    expect(gatewayUrl(undefined, { PORT: '5300' })).toBe('http://localhost:5300/graphql');
    expect(gatewayUrl(undefined, {})).toBe('http://localhost:4000/graphql');
  });

  it('without http:// or https:// is a usage error that says so and shows the fix', () => {
    expect(() => gatewayUrl('localhost:5300', {})).toThrow(UsageError);
    expect(() => gatewayUrl('localhost:5300', {})).toThrow(
      '--url "localhost:5300" is not a URL the CLI can call: it needs http:// or https:// in front, e.g. http://localhost:5300/graphql',
    );
    expect(() => gatewayUrl(undefined, { C2C_URL: 'gw:4000/graphql' })).toThrow(
      /^C2C_URL "gw:4000\/graphql" .* e\.g\. http:\/\/gw:4000\/graphql$/,
    );
  });
});

describe('a token given to the CLI', () => {
  it('must have the shape of a JWT', () => {
    expect(looksLikeJwt('garbage')).toBe(false);
    expect(looksLikeJwt('a.b.c')).toBe(false);
    const header = Buffer.from('{"alg":"ES256"}').toString('base64url');
    expect(looksLikeJwt(`${header}.e30.sig`)).toBe(true);
    expect(looksLikeJwt(`${header}.e30`)).toBe(false);
  });
});

describe('what the CLI says when the gateway does not answer GraphQL', () => {
  const refused = Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4000'), { code: 'ECONNREFUSED' }),
  });
  it('connection refused: is the stack running, with the URL', () => {
    expect(describeFetchFailure('http://localhost:4000/graphql', refused)).toBe(
      'cannot reach the gateway at http://localhost:4000/graphql: connection refused. Is the stack running? (npm start prints its URL; pass it with --url or C2C_URL)',
    );
    const dualStack = { cause: { code: undefined, errors: [{ code: 'ECONNREFUSED' }] } };
    expect(describeFetchFailure('http://localhost:4000/graphql', dualStack)).toMatch(/connection refused/);
  });

  it('an unknown host names it', () => {
    const unknown = { cause: { code: 'ENOTFOUND' } };
    expect(describeFetchFailure('http://gatewy:4000/graphql', unknown)).toMatch(
      /the host gatewy:4000 is not known/,
    );
  });

  it('404: not the GraphQL endpoint, point at …/graphql on the same origin', () => {
    expect(describeHttpFailure('http://localhost:4000/', 404, undefined)).toBe(
      'http://localhost:4000/ answered 404 Not Found: that is not the GraphQL endpoint. Point --url (or C2C_URL) at …/graphql, e.g. http://localhost:4000/graphql',
    );
  });

  it("401: the gateway's reason, and where the CLI's token came from", () => {
    const message = describeHttpFailure(
      'http://localhost:4000/graphql',
      401,
      'the bearer token expired at X',
    );
    expect(message).toMatch(
      /^the gateway at http:\/\/localhost:4000\/graphql refused the request \(401\): the bearer token expired at X\. /,
    );
    expect(message).toMatch(
      /--token, else C2C_TOKEN, else a token minted from the development key in DATA_DIR/,
    );
  });
});

describe('option values', () => {
  it('whole numbers in range, or a usage error naming the option, the range and the value', () => {
    expect(wholeNumber('--first', '20', 1, 100)).toBe(20);
    for (const bad of ['abc', '0', '101', '1.5', '-3', '', '1e2'])
      expect(() => wholeNumber('--first', bad, 1, 100)).toThrow(
        `--first must be a whole number from 1 to 100, got ${JSON.stringify(bad)}`,
      );
  });

  it("parseArgs' complaints become usage errors with the usage", () => {
    const parse = () =>
      parseOptions({ args: ['--bogus'], options: { first: { type: 'string' } } }, 'Usage: npm run c2c -- x');
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(/^Unknown option '--bogus'\n\nUsage: npm run c2c -- x$/);
  });
});

describe('PostgreSQL that cannot be reached', () => {
  const url = 'postgres://alice:s3cret%21@db.internal:6543/c2c';
  it('names host:port, database and user, never the password, and what to check', () => {
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    const message = describePostgresConnectError(url, refused);
    expect(message).toBe(
      'could not connect to PostgreSQL at db.internal:6543 (database c2c, user alice): connection refused (nothing listens there). Check that PostgreSQL is running and reachable there, and the host and port in DATABASE_URL',
    );
    expect(message).not.toContain('s3cret');
  });

  it('says to check the credentials on a refused password, and hides the password from the server message', () => {
    const auth = Object.assign(new Error('password authentication failed for user "alice"'), {
      code: '28P01',
    });
    expect(describePostgresConnectError(url, auth, '--database-url')).toMatch(
      /password authentication failed\. Check the user and password in --database-url$/,
    );
    const other = new Error('something about s3cret! went wrong');
    expect(describePostgresConnectError(url, other)).not.toContain('s3cret!');
    expect(describePostgresConnectError('postgres://h/db', new Error('x'))).toMatch(
      /at h:5432 \(database db, user \(default\)\)/,
    );
  });
});
