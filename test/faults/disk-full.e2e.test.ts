import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unique } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
import { http, startSecurityStack, type SecurityStack } from '../security/support.ts';
import { aSyncedSubscription } from './support.ts';

// Issue 20 (i): the database refuses writes (disk full; simulated by a trigger raising SQLSTATE
// 53100, which is what PostgreSQL answers when it cannot extend a file). Mutations answer a
// retriable code, the subgraph and the gateway go not ready, and everything recovers by itself
// once writes succeed again: the client's retry with the same key applies the change once.

let s: SecurityStack;
let url: string;
let synced: { subscriptionId: string };

beforeAll(async () => {
  s = await startSecurityStack();
  url = s.stack.gatewayUrl;
  synced = await aSyncedSubscription(url, 3);
}, 120_000);
afterAll(() => s?.close());

const readyz = async (graphqlUrl: string) =>
  (await fetch(graphqlUrl.replace(/\/graphql$/, '/readyz'))).status;
const billingUrl = () => s.stack.subgraphs.find((g) => g.name === 'subscription')?.url as string;

describe('disk full', () => {
  it('answers SERVICE_UNAVAILABLE, goes not ready, and recovers when writes succeed again', async () => {
    expect(await readyz(billingUrl())).toBe(200);
    const support = await s.stack.token({ role: 'support', subject: 'disk-full' });
    const variables = {
      input: {
        subscriptionId: synced.subscriptionId,
        seats: 5,
        effectiveDate: '2026-04-01',
        idempotencyKey: unique('disk-full'),
        reason: 'disk full',
      },
    };
    const amend = () =>
      http(url, { body: { query: operation('support.AmendSubscription'), variables }, token: support });
    await sql
      .raw(
        `create function subscription.disk_full() returns trigger language plpgsql as $$
         begin raise exception 'could not extend file "base/1/2": No space left on device' using errcode = 'disk_full'; end $$;
         create trigger disk_full before insert on subscription.amendment
           for each row execute function subscription.disk_full();`,
      )
      .execute(s.database.db);
    try {
      const refused = await amend();
      expect(refused.json.errors?.[0]?.extensions, refused.text).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        retryAfterSeconds: 15,
      });
      expect(refused.text).not.toMatch(/No space|base\/1/);
      expect(refused.json.data?.amendSubscription ?? null).toBeNull();
      expect(await readyz(billingUrl())).toBe(503);
      expect(await readyz(url)).toBe(503);
    } finally {
      await sql
        .raw('drop trigger disk_full on subscription.amendment; drop function subscription.disk_full();')
        .execute(s.database.db);
    }
    // Space is back: the client's retry (same key) applies the change once, and readiness returns.
    const retried = await amend();
    expect(retried.json.data?.amendSubscription?.userErrors, retried.text).toEqual([]);
    expect(await readyz(billingUrl())).toBe(200);
    expect(await readyz(url)).toBe(200);
  });
});
