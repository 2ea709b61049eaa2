import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import DataLoader from 'dataloader';
import { buildSchema, execute, parse, validate, type DocumentNode } from 'graphql';
import { sql } from 'kysely';
import { encodeCursor, money, todayUtc } from '@c2c/platform/core';
import { openDatabase, type AnyDb } from '@c2c/platform/db';
import { subgraphOfSystem } from '@c2c/schema/subgraphs';
import { runChild, storeFromEnv } from './child-runtime.ts';

// The floor reads each system's tables directly; their schemas come from the ownership rules.
const CRM = subgraphOfSystem('CRM');
const BILLING = subgraphOfSystem('billing');
const ERP = subgraphOfSystem('ERP');
const table = (schema: string, name: string) => sql.table(`${schema}.${name}`);

// The floor: one process answering portal.CustomerToCash and portal.Customers from the same
// database with no gateway, no subgraphs and no HTTP hop behind it. A hand-written GraphQL schema
// holding just those operations' fields (graphql-js parse/validate/execute, documents cached),
// resolved with the subgraphs' own SQL (their repositories' queries), batched per request with
// DataLoader as the subgraphs do. The bench checks that it answers exactly what the gateway does.

const SDL = /* GraphQL */ `
  type Query {
    customer(id: ID!): Customer
    customers(businessUnit: String, first: Int, after: String): CustomerConnection!
  }
  type Money {
    amount: String!
    currency: String!
  }
  type PageInfo {
    hasNextPage: Boolean!
    endCursor: String
  }
  type CustomerConnection {
    totalCount: Int!
    pageInfo: PageInfo!
    nodes: [Customer!]!
  }
  type Customer {
    id: ID!
    name: String!
    status: String!
    businessUnit: String!
    country: String!
    contractValue: Money
    subscriptions: [Subscription!]!
    receivable: Receivable
  }
  type Receivable {
    balance: Money!
    overdue: Money!
  }
  type Plan {
    code: String!
    name: String!
    billingPeriod: String!
    unitPrice: Money!
  }
  type Period {
    start: String!
    end: String!
  }
  type Subscription {
    id: ID!
    status: String!
    seats: Int!
    version: Int!
    startDate: String!
    plan: Plan!
    currentPeriod: Period!
    invoices(first: Int): InvoiceConnection!
    revenueSchedule: [RevenueMonth!]!
  }
  type InvoiceConnection {
    totalCount: Int!
    pageInfo: PageInfo!
    nodes: [Invoice!]!
  }
  type Posting {
    status: String!
    journalEntryId: ID
    postedAt: String
  }
  type Invoice {
    id: ID!
    number: String!
    kind: String!
    status: String!
    issuedOn: String!
    subtotal: Money!
    tax: Money!
    total: Money!
    posting: Posting!
    amountDue: Money
  }
  type RevenueMonth {
    month: String!
    revenue: Money!
  }
`;

type Row = Record<string, unknown> & { id: string };

const rows = async <T = Row>(db: AnyDb, query: ReturnType<typeof sql>) =>
  (await query.execute(db)).rows as T[];

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

const m = (minor: unknown, currency: unknown) => money(Number(minor), String(currency));

/** Per-request batching: one SQL statement per entity type per request, like the subgraphs. */
function loaders(db: AnyDb) {
  const invoicePages = new Map<number, DataLoader<string, { rows: Row[]; totalCount: number }>>();
  return {
    subscriptionsByCustomer: new DataLoader<string, Row[]>(async (ids) => {
      const found = groupBy(
        await rows(
          db,
          sql`select * from ${table(BILLING, 'subscription')} where customer_id in (${sql.join(ids)}) order by created_at, id`,
        ),
        (r) => String(r.customer_id),
      );
      return ids.map((id) => found.get(id) ?? []);
    }),
    plan: new DataLoader<string, Row | null>(async (codes) => {
      const found = new Map(
        (await rows(db, sql`select * from ${table(BILLING, 'plan')} where code in (${sql.join(codes)})`)).map(
          (r) => [String(r.code), r],
        ),
      );
      return codes.map((code) => found.get(code) ?? null);
    }),
    invoicePage: (limit: number) => {
      let loader = invoicePages.get(limit);
      if (!loader) {
        loader = new DataLoader(async (ids: readonly string[]) => {
          const found = groupBy(
            await rows(
              db,
              sql`select * from (select *, count(*) over (partition by subscription_id) as total_count,
                row_number() over (partition by subscription_id order by seq desc) as rn
                from ${table(BILLING, 'invoice')} where subscription_id in (${sql.join(ids)})) ranked
                where rn <= ${limit} order by subscription_id, rn`,
            ),
            (r) => String(r.subscription_id),
          );
          return ids.map((id) => {
            const page = found.get(id) ?? [];
            return { rows: page, totalCount: Number(page[0]?.total_count ?? 0) };
          });
        });
        invoicePages.set(limit, loader);
      }
      return loader;
    },
    receivable: new DataLoader<string, Row | null>(async (ids) => {
      const found = new Map(
        (
          await rows(
            db,
            sql`select * from ${table(ERP, 'receivable')} where invoice_id in (${sql.join(ids)})`,
          )
        ).map((r) => [String(r.invoice_id), r]),
      );
      return ids.map((id) => found.get(id) ?? null);
    }),
    revenue: new DataLoader<string, Row[]>(async (ids) => {
      const found = groupBy(
        await rows(
          db,
          sql`select subscription_id, month, currency, sum(amount_minor)::bigint as amount
            from ${table(ERP, 'revenue_schedule')} where subscription_id in (${sql.join(ids)})
            group by subscription_id, month, currency order by subscription_id, month, currency`,
        ),
        (r) => String(r.subscription_id),
      );
      return ids.map((id) => found.get(id) ?? []);
    }),
    receivableTotals: new DataLoader<string, Row | null>(async (ids) => {
      const today = todayUtc();
      const open = sql`kind = 'INVOICE' and amount_due_minor > 0`;
      const found = groupBy(
        await rows(
          db,
          sql`select customer_id, currency, count(*) as document_count, sum(amount_due_minor)::bigint as balance,
            coalesce(sum(amount_due_minor) filter (where ${open} and due_on < ${today}::date), 0)::bigint as overdue
            from ${table(ERP, 'receivable')} where customer_id in (${sql.join(ids)}) group by customer_id, currency`,
        ),
        (r) => String(r.customer_id),
      );
      // The dominant currency, as the ERP shows it: most documents, then alphabetical.
      return ids.map(
        (id) =>
          [...(found.get(id) ?? [])].sort(
            (a, b) =>
              Number(b.document_count) - Number(a.document_count) ||
              String(a.currency).localeCompare(String(b.currency)),
          )[0] ?? null,
      );
    }),
  };
}

type Loaders = ReturnType<typeof loaders>;

function invoice(row: Row) {
  return {
    id: row.id,
    number: row.number,
    kind: row.kind,
    status: row.status,
    issuedOn: row.issued_on,
    subtotal: m(row.subtotal_minor, row.currency),
    tax: m(row.tax_minor, row.currency),
    total: m(row.total_minor, row.currency),
    posting: async (_: unknown, l: Loaders) => {
      const r = await l.receivable.load(row.id);
      if (!r) return { status: 'PENDING', journalEntryId: null, postedAt: null };
      const postedAt = r.posted_at instanceof Date ? r.posted_at.toISOString() : r.posted_at;
      return { status: r.posting_status, journalEntryId: r.journal_entry_id, postedAt };
    },
    amountDue: async (_: unknown, l: Loaders) => {
      const r = await l.receivable.load(row.id);
      return r ? m(r.amount_due_minor, r.currency) : null;
    },
  };
}

function subscription(row: Row) {
  return {
    id: row.id,
    status: row.status,
    seats: row.seats,
    version: row.version,
    startDate: row.start_date,
    currentPeriod: { start: row.current_period_start, end: row.current_period_end },
    plan: async (_: unknown, l: Loaders) => {
      const plan = (await l.plan.load(String(row.plan_code))) as Row;
      return {
        code: plan.code,
        name: plan.name,
        billingPeriod: plan.billing_period,
        unitPrice: m(plan.unit_price_minor, plan.currency),
      };
    },
    invoices: async (args: { first?: number | null }, l: Loaders) => {
      const first = args.first ?? 20;
      const page = await l.invoicePage(first + 1).load(row.id);
      const nodes = page.rows.slice(0, first);
      const last = nodes.at(-1);
      return {
        totalCount: page.totalCount,
        nodes: nodes.map(invoice),
        pageInfo: {
          hasNextPage: page.rows.length > first,
          endCursor: last ? encodeCursor({ seq: Number(last.seq) }) : null,
        },
      };
    },
    revenueSchedule: async (_: unknown, l: Loaders) =>
      (await l.revenue.load(row.id)).map((r) => ({ month: r.month, revenue: m(r.amount, r.currency) })),
  };
}

function customer(row: Row) {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    businessUnit: row.business_unit,
    country: row.country,
    contractValue:
      row.contract_value_minor === null || row.contract_currency === null
        ? null
        : m(row.contract_value_minor, row.contract_currency),
    subscriptions: async (_: unknown, l: Loaders) =>
      (await l.subscriptionsByCustomer.load(row.id)).map(subscription),
    receivable: async (_: unknown, l: Loaders) => {
      const totals = await l.receivableTotals.load(row.id);
      return totals
        ? { balance: m(totals.balance, totals.currency), overdue: m(totals.overdue, totals.currency) }
        : null;
    },
  };
}

function root(db: AnyDb) {
  return {
    customer: async (args: { id: string }) => {
      if (!/^[0-9a-f-]{36}$/i.test(args.id)) return null;
      const [row] = await rows(
        db,
        sql`select * from ${table(CRM, 'customer')} where id = ${args.id.toLowerCase()}`,
      );
      return row ? customer(row) : null;
    },
    customers: async (args: {
      businessUnit?: string | null;
      first?: number | null;
      after?: string | null;
    }) => {
      const first = args.first ?? 50;
      const after = args.after
        ? (JSON.parse(Buffer.from(args.after, 'base64url').toString('utf8')) as { name: string; id: string })
        : null;
      const bu = args.businessUnit ?? null;
      const filter = bu === null ? sql`true` : sql`business_unit = ${bu}`;
      const position = after
        ? sql`(name > ${after.name} or (name = ${after.name} and id > ${after.id}))`
        : sql`true`;
      const [page, [count]] = await Promise.all([
        rows(
          db,
          sql`select * from ${table(CRM, 'customer')} where ${filter} and ${position} order by name, id limit ${first + 1}`,
        ),
        rows<{ n: unknown }>(db, sql`select count(*) as n from ${table(CRM, 'customer')} where ${filter}`),
      ]);
      const nodes = page.slice(0, first);
      const last = nodes.at(-1);
      return {
        totalCount: Number(count?.n ?? 0),
        nodes: nodes.map(customer),
        pageInfo: {
          hasNextPage: page.length > first,
          endCursor: last ? encodeCursor({ name: last.name, id: last.id }) : null,
        },
      };
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

runChild(async () => {
  const store = storeFromEnv();
  const database =
    store.kind === 'postgres'
      ? await openDatabase({
          kind: 'postgres',
          url: store.url,
          poolSize: 10,
          applicationName: 'c2c-bench-floor',
        })
      : await openDatabase({ kind: 'pglite', dataDir: store.dataDir });
  let sqlCount = 0;
  database.onQuery(() => sqlCount++);
  const schema = buildSchema(SDL);
  const documents = new Map<string, DocumentNode>();
  const rootValue = root(database.db);
  const server = createServer((req, res) => {
    const answer = async () => {
      const body = JSON.parse(await readBody(req)) as {
        query: string;
        variables?: Record<string, unknown>;
        operationName?: string;
      };
      let document = documents.get(body.query);
      if (!document) {
        document = parse(body.query);
        const errors = validate(schema, document);
        if (errors.length) return { errors: errors.map((e) => ({ message: e.message })) };
        documents.set(body.query, document);
      }
      const result = await execute({
        schema,
        document,
        rootValue,
        contextValue: loaders(database.db),
        variableValues: body.variables ?? {},
        ...(body.operationName ? { operationName: body.operationName } : {}),
      });
      return result;
    };
    answer()
      .then((result) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(result));
      })
      .catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ errors: [{ message: error instanceof Error ? error.message : String(error) }] }),
        );
      });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    handle: async (message) => {
      if (message.type === 'counters') return { requests: {}, sql: sqlCount };
      throw new Error(`unknown request ${message.type}`);
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.close();
    },
  };
});
