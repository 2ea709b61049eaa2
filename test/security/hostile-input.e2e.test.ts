import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLInputType,
} from 'graphql';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ROLE_SCOPES } from '@c2c/platform/auth';
import { unique } from '@c2c/platform/testing';
import { operation } from '@c2c/schema/operations';
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
    // Refused at the gateway (NUL, lone surrogates: a 400), it never reached billing: nothing to audit there.
    if (answer.status === 200) expect(rows.length, JSON.stringify(answer.json)).toBeGreaterThan(0);
    else expect(answer.status).toBe(400);
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
    // A lone surrogate is refused by the gateway already (a 400, like NUL); the rest by the CRM.
    if (answer.status === 400) expect(answer.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    else
      expect(answer.json.data?.createCustomer?.userErrors).toEqual([
        expect.objectContaining({ code: 'INVALID_TEXT', field: 'name' }),
      ]);
  });

  it('refuses a lone surrogate in an amendment reason, and stores names NFC-normalised', async () => {
    const refused = await amend(unique('surrogate'), 'moved \uD800 seats');
    expect(refused.status).toBe(400);
    const created = await createCustomer(`Cafe\u0301 ${unique('nfc')}`);
    const id = created.json.data?.createCustomer?.customer?.id as string;
    const { rows } = await sql<{ name: string }>`select name from customer.customer where id = ${id}`.execute(
      s.database.db,
    );
    expect(rows[0]?.name.startsWith('Caf\u00E9 ')).toBe(true);
  });
});

/** Every argument path of the supergraph's root fields that takes a string, with the argument's type. */
function stringArguments(): {
  root: 'query' | 'mutation';
  field: string;
  arg: string;
  type: string;
  value: (s: string) => unknown;
  selection: string;
  onlyRequired: boolean;
}[] {
  const schema = buildSchema(
    readFileSync(join(import.meta.dirname, '../../schema/supergraph.graphql'), 'utf8'),
  );
  const found: ReturnType<typeof stringArguments> = [];
  /** Ways to put a string somewhere into a value of `type`. */
  const placements = (type: GraphQLInputType, depth: number): ((s: string) => unknown)[] => {
    const named = getNamedType(type);
    const wrap = (inner: (s: string) => unknown) => {
      let current: GraphQLInputType = type;
      while (isNonNullType(current)) current = current.ofType;
      return isListType(current) ? (s: string) => [inner(s)] : inner;
    };
    if (isScalarType(named) && !['Int', 'Float', 'Boolean'].includes(named.name)) return [wrap((s) => s)];
    if (isInputObjectType(named) && depth < 4) {
      return Object.values(named.getFields()).flatMap((f) =>
        placements(f.type, depth + 1).map((place) => wrap((s) => ({ [f.name]: place(s) }))),
      );
    }
    return [];
  };
  for (const root of ['query', 'mutation'] as const) {
    const type = root === 'query' ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.values(type?.getFields() ?? {})) {
      const named = getNamedType(field.type);
      const selection =
        isObjectType(named) || isInterfaceType(named) || isUnionType(named) ? '{ __typename }' : '';
      for (const arg of field.args) {
        const others = field.args.filter(
          (a) => a !== arg && isNonNullType(a.type) && a.defaultValue === undefined,
        );
        for (const value of placements(arg.type, 0)) {
          found.push({
            root,
            field: field.name,
            arg: arg.name,
            type: String(arg.type),
            value,
            selection,
            onlyRequired: others.length === 0,
          });
        }
      }
    }
  }
  return found;
}

const HOSTILE = ['\u0000', 'EMEA\u0000MM', '\uD800', 'x\uDFFFy'];

describe('NUL and invalid text in every string argument (issue 20 e)', () => {
  const args = stringArguments();

  it('finds the string arguments of the supergraph', () => {
    expect(args.length).toBeGreaterThan(20);
    expect(args.map((a) => `${a.field}(${a.arg})`)).toEqual(
      expect.arrayContaining(['customers(businessUnit)']),
    );
  });

  it('answers a 400 with a clear message for each hostile string in each argument, as a variable', async () => {
    const failures: string[] = [];
    for (const { root, field, arg, type, value, selection } of args) {
      for (const hostile of HOSTILE) {
        const answer = await http(url, {
          body: {
            query: `${root} Hostile($v: ${type}) { ${field}(${arg}: $v) ${selection} }`,
            variables: { v: value(hostile) },
          },
          token: tokens.admin as string,
        });
        const error = answer.json.errors?.[0];
        if (
          answer.status !== 400 ||
          error?.extensions?.code !== 'BAD_USER_INPUT' ||
          !/NUL/.test(error.message)
        )
          failures.push(
            `${field}(${arg}: ${JSON.stringify(value(hostile))}) → ${answer.status} ${answer.text.slice(0, 160)}`,
          );
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers a 400 for each hostile string written into the query as a literal', async () => {
    const failures: string[] = [];
    for (const { root, field, arg, value, selection, onlyRequired } of args) {
      if (!onlyRequired || root !== 'query') continue;
      for (const hostile of HOSTILE) {
        const literal = JSON.stringify(value(hostile)).replace(/"([A-Za-z_][A-Za-z0-9_]*)":/g, '$1:');
        const answer = await http(url, {
          body: { query: `{ ${field}(${arg}: ${literal}) ${selection} }` },
          token: tokens.admin as string,
        });
        if (answer.status !== 400 || answer.json.errors?.[0]?.extensions?.code === 'INTERNAL_SERVER_ERROR')
          failures.push(`${field}(${arg}: ${literal}) → ${answer.status} ${answer.text.slice(0, 160)}`);
      }
    }
    expect(failures).toEqual([]);
    // The read filters of the report, one by one.
    for (const query of [
      '{ customers(businessUnit: "EMEA\\u0000MM", first: 5) { __typename } }',
      '{ billingAuditLog(principal: "dana\\u0000") { id } }',
    ]) {
      const answer = await http(url, { body: { query }, token: tokens.admin as string });
      expect(answer.status, answer.text).toBe(400);
      expect(answer.json.errors?.[0]?.message).toMatch(/NUL/);
    }
  });

  it('refuses a body that is not valid UTF-8 instead of storing replacement characters', async () => {
    const body = Buffer.concat([
      Buffer.from('{"query":"{ customers(businessUnit: \\"EMEA'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\\") { __typename } }"}'),
    ]);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.admin}` },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/not valid UTF-8/);
  });
});

describe('no schema hints in production errors (issue 20 f)', () => {
  it('does not suggest enum values, fields or types', async () => {
    const badEnum = await http(url, {
      body: {
        query: operation('admin.CreatePlan'),
        variables: {
          input: {
            code: 'HINT',
            name: 'Team',
            billingPeriod: 'MONTHS',
            unitPrice: { amount: '9.95', currency: 'USD' },
            idempotencyKey: unique('hint'),
          },
        },
      },
      token: tokens.admin as string,
    });
    expect(badEnum.status).toBe(400);
    const field = await http(url, {
      body: { query: '{ custmer(id: "x") { id } }' },
      token: tokens.admin as string,
    });
    const literal = await http(url, {
      body: { query: '{ amendments(status: COMPLETE) { __typename } }' },
      token: tokens.admin as string,
    });
    for (const answer of [badEnum, field, literal]) {
      expect(answer.json.errors?.length, answer.text).toBeGreaterThan(0);
      expect(answer.text).not.toMatch(/Did you mean/i);
    }
  });
});

describe('variables bounded at the gateway (issue 20 g)', () => {
  it('refuses variables the operation does not declare', async () => {
    const answer = await http(url, {
      body: { query: '{ __typename }', variables: { extra: 1 } },
      token: tokens.portal as string,
    });
    expect(answer.status).toBe(400);
    expect(answer.json.errors?.[0]?.message).toMatch(/not declared/);
  });

  it('refuses 90,000 undeclared variables before looking at them', async () => {
    const variables: Record<string, number> = {};
    for (let i = 0; i < 90_000; i++) variables[i.toString(36)] = 0;
    const started = performance.now();
    const answer = await http(url, {
      body: { query: '{ __typename }', variables },
      token: tokens.portal as string,
    });
    expect(answer.status).toBe(400);
    expect(answer.json.errors?.[0]?.message).toMatch(/too many variables/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('refuses a declared variable holding too many values', async () => {
    const answer = await http(url, {
      body: {
        query: 'query Many($ids: [ID!]!) { customersByIds: customers(first: 5) { __typename } }',
        variables: { ids: Array.from({ length: 30_000 }, (_, i) => String(i)) },
      },
      token: tokens.portal as string,
    });
    expect(answer.status).toBe(400);
    expect(answer.json.errors?.[0]?.message).toMatch(/too many values/);
  });
});
