// Compile-time checks, run by `npm run typecheck` (tsc): each `@ts-expect-error` fails the type
// check if the line after it compiles, i.e. if the rule it states stops holding.
import type { AnyDb, AnyTransaction } from '@c2c/platform/db';
import type { Causality, EventEffect, appendToOutbox } from '@c2c/platform/events';

export function rules(
  pool: AnyDb,
  trx: AnyTransaction,
  append: typeof appendToOutbox,
  effect: EventEffect,
  causality: Causality,
): void {
  // An outbox row is written in the caller's transaction: the root pool is refused.
  // @ts-expect-error the pool is not a transaction
  void append(pool, 'customer', 'customer', [], causality);
  void append(trx, 'customer', 'customer', [], causality);
  // A consumer's effect commits with its inbox row: it is given a transaction, never the pool.
  // @ts-expect-error the pool is not a transaction
  void effect(pool, {} as never, {} as never);
  void effect(trx, {} as never, {} as never);
}
