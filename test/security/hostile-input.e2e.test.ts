import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ROLE_SCOPES } from '@c2c/platform';
import { unique } from '@c2c/platform/testing';
import { operation } from '../../scripts/lib/operations.ts';
import { aSyncedSubscription } from '../faults/support.ts';
import { http, startSecurityStack, type SecurityStack } from './support.ts';

// Issue 20: the inputs a hostile client sends, against the gateway in its production configuration.

let s: SecurityStack;
let url: string;
const tokens: Record<string, string> = {};
let synced: { customerId: string; subscriptionId: string };
let seats = 4;

const token = (role: keyof typeof ROLE_SCOPES, subject?: string) =>
  s.stack.token({ role, subject: subject ?? `hostile-${role}` });

beforeAll(async () => {
  s = await startSecurityStack();
  url = s.stack.gatewayUrl;
  for (const role of ['portal', 'support', 'finance', 'admin'] as const) tokens[role] = await token(role);
  synced = await aSyncedSubscription(url, 3);
}, 120_000);
afterAll(() => s?.close());

/** An amendment through the registered operation, as the support role. */
function amend(key: string, reason: string) {
  seats += 1;
  return http(url, {
    body: {
      query: operation('support.AmendSubscription'),
      variables: {
        input: {
          subscriptionId: synced.subscriptionId,
          seats,
          effectiveDate: '2026-04-01',
          idempotencyKey: key,
          reason,
        },
      },
    },
    token: tokens.support as string,
  });
}

/** Audit rows of the subscription subgraph for one idempotency key, by result. */
async function auditRows(key: string): Promise<string[]> {
  const { rows } = await sql<{ result: string }>`select result from subscription.audit_log
    where variables -> 'input' ->> 'idempotencyKey' = ${key} order by id`.execute(s.database.db);
  return rows.map((row) => row.result);
}

async function committed(key: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from subscription.idempotency_key
    where key = ${key}`.execute(s.database.db);
  return Number(rows[0]?.n) > 0;
}

describe('the audit row commits with the change (issue 20 c)', () => {
  it.each([
    ['a lone high surrogate', 'moved \uD800 seats'],
    ['a lone low surrogate', '\uDC00'],
    ['a NUL byte', 'a\u0000b'],
    ['a right-to-left override', 'seats \u202Eevil'],
    ['plain text', 'customer asked'],
  ])('no acknowledged amendment without its audit row, with %s in the reason', async (_, reason) => {
    const key = unique('audit');
    const answer = await amend(key, reason);
    const acknowledged = Boolean(answer.json.data?.amendSubscription?.amendment?.id);
    expect(await committed(key)).toBe(acknowledged);
    const rows = await auditRows(key);
    expect(rows.length, JSON.stringify(answer.json)).toBeGreaterThan(0);
    if (acknowledged) expect(rows.filter((r) => r === 'OK')).toHaveLength(1);
  });

  it('keeps nothing of a change whose audit row cannot be stored, and audits the refusal', async () => {
    // The database refuses every successful audit row of the subscription subgraph, once.
    await sql
      .raw(
        `create function subscription.refuse_ok_audit() returns trigger language plpgsql as $$
         begin if new.result = 'OK' then raise exception 'audit storage refused'; end if; return new; end $$;
         create trigger refuse_ok_audit before insert on subscription.audit_log
           for each row execute function subscription.refuse_ok_audit();`,
      )
      .execute(s.database.db);
    const key = unique('unauditable');
    try {
      const answer = await amend(key, 'unauditable');
      expect(answer.json.data?.amendSubscription?.amendment ?? null).toBeNull();
      expect(answer.json.errors?.length).toBeGreaterThan(0);
    } finally {
      await sql
        .raw(
          'drop trigger refuse_ok_audit on subscription.audit_log; drop function subscription.refuse_ok_audit();',
        )
        .execute(s.database.db);
    }
    expect(await committed(key)).toBe(false);
    expect(await auditRows(key)).toEqual(['ERROR']);
    // The client's retry with the same key then applies it once, audited.
    const retry = await amend(key, 'unauditable');
    expect(retry.json.data?.amendSubscription?.amendment?.id).toBeTruthy();
    expect(await auditRows(key)).toEqual(['ERROR', 'OK']);
  });
});

describe('Unicode that should not be stored (issue 20 d)', () => {
  const createCustomer = (name: string) =>
    http(url, {
      body: {
        query: operation('admin.CreateCustomer'),
        variables: {
          input: {
            name,
            email: 'ap@unicode.example',
            country: 'DE',
            businessUnit: 'EMEA-MM',
            idempotencyKey: unique('uni'),
          },
        },
      },
      token: tokens.admin as string,
    });

  it.each([
    ['a right-to-left override', 'Acme\u202Egnp.exe'],
    ['a zero-width space', 'Ac\u200Bme'],
    ['a lone surrogate', 'Acme \uD800'],
  ])('refuses %s in a customer name', async (_, name) => {
    const answer = await createCustomer(name);
    expect(answer.json.data?.createCustomer?.userErrors).toEqual([
      expect.objectContaining({ code: 'INVALID_TEXT', field: 'name' }),
    ]);
  });

  it('refuses a lone surrogate in an amendment reason, and stores names NFC-normalised', async () => {
    const refused = await amend(unique('surrogate'), 'moved \uD800 seats');
    expect(refused.json.data?.amendSubscription?.userErrors?.[0]?.code).toBe('INVALID_TEXT');
    const created = await createCustomer(`Cafe\u0301 ${unique('nfc')}`);
    const id = created.json.data?.createCustomer?.customer?.id as string;
    const { rows } = await sql<{ name: string }>`select name from customer.customer where id = ${id}`.execute(
      s.database.db,
    );
    expect(rows[0]?.name.startsWith('Caf\u00E9 ')).toBe(true);
  });
});
