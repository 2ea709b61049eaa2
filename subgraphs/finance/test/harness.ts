import { sql } from 'kysely';
import type { AnyDb } from '@c2c/platform/db';
import type { CloudEvent } from '@c2c/platform/events';
import { fixedClock, graphql, startTestSubgraphs, waitFor, type TestSubgraphs } from '@c2c/platform/testing';
import { buildFinanceSubgraph } from '../src/index.ts';
import { anEvent } from './builders.ts';

/** "Today" for every finance test: 2026-03-10. */
export const TODAY = '2026-03-10T12:00:00Z';

export interface FinanceHarness {
  stack: TestSubgraphs;
  url: string;
  clock: ReturnType<typeof fixedClock>;
  finance(): AnyDb;
  /** Publishes events as billing's relay would and waits until finance's consumers have handled them. */
  publish(...events: CloudEvent[]): Promise<void>;
  /** Publishes `invoice.issued` (or `creditnote.issued`) for `data` and waits for it to be handled. */
  issue<T extends { id: string; kind: string }>(
    data: T,
    overrides?: Partial<CloudEvent>,
  ): Promise<CloudEvent>;
  count(table: string, where?: Record<string, unknown>): Promise<number>;
  entities<T = any>(selection: string, reps: Record<string, unknown>[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Finance alone over a test database; `env` picks the ERP adapter (default: the built-in ledger). */
export async function startFinance(env: Record<string, string> = {}): Promise<FinanceHarness> {
  const clock = fixedClock(TODAY);
  const stack = await startTestSubgraphs([buildFinanceSubgraph], {
    clock,
    env,
    retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20 },
  });
  const url = stack.url('finance');
  const finance = () => stack.database.db.withSchema('finance');

  const drained = () =>
    waitFor(
      async () => {
        const { rows } = await sql<{ n: number }>`
          select count(*)::int as n from bus.delivery where consumer like 'finance.%' and state = 'pending'`.execute(
          stack.database.db,
        );
        return rows[0]?.n === 0;
      },
      10_000,
      'finance consumers to drain',
    );

  const publish = async (...events: CloudEvent[]) => {
    await stack.transport.publish(events);
    await drained();
  };

  return {
    stack,
    url,
    clock,
    finance,
    publish,
    issue: async (data, overrides = {}) => {
      const event = anEvent(
        data.kind === 'CREDIT_NOTE' ? 'creditnote.issued' : 'invoice.issued',
        data,
        overrides,
      );
      await publish(event);
      return event;
    },
    count: async (table, where = {}) => {
      let query = finance()
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'));
      for (const [column, value] of Object.entries(where)) query = query.where(column, '=', value);
      return Number((await query.executeTakeFirstOrThrow()).n);
    },
    entities: async (selection, reps) => {
      const result = await graphql(
        url,
        `query ($reps: [_Any!]!) { _entities(representations: $reps) { ${selection} } }`,
        { reps },
      );
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return (result.data as any)._entities;
    },
    close: () => stack.close(),
  };
}
