import { v7 as uuidv7 } from 'uuid';
import { addDays, DomainError, parseMonth, todayUtc } from '@c2c/platform/core';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import { insertJournalEntry } from '../data/ledger.repository.ts';
import { markRecognizedThrough, type RecognizedTotal } from '../data/revenue.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { recognitionLines } from './journal.ts';
import type { Caller } from './payment.service.ts';

export interface CloseRevenueMonthCommand {
  month: string;
  idempotencyKey: string;
}

export interface ClosedRevenueMonth {
  month: string;
  /** Net amount recognized per currency by this close, by currency; zero nets are left out. */
  recognized: RecognizedTotal[];
  journalEntryIds: string[];
}

/** Month close: recognizing scheduled revenue (the ledger: revenue recognized month by month). */
export class MonthCloseService {
  constructor(private readonly deps: SubgraphDeps) {}

  /** A month YYYY-MM that has ended: strictly before the clock's current month. */
  private validate(command: CloseRevenueMonthCommand): { month: string; lastDay: string } {
    const { end } = parseMonth(command.month, 'month');
    const month = command.month;
    const current = todayUtc(this.deps.clock.now()).slice(0, 7);
    if (month >= current) {
      throw new DomainError(
        'MONTH_NOT_ENDED',
        `month ${month} has not ended yet (the current month is ${current}); only an ended month may close`,
        'month',
      );
    }
    return { month, lastDay: addDays(end, -1) };
  }

  /**
   * One transaction: marks every unrecognized schedule row of the month and of earlier months
   * recognized (so a forgotten month is caught up) and posts one balanced entry per currency,
   * Dr Deferred Revenue / Cr Revenue for the net (sides swapped when it is negative). Closing
   * again with nothing left recognizes nothing.
   */
  async closeRevenueMonth(command: CloseRevenueMonthCommand, who: Caller): Promise<ClosedRevenueMonth> {
    const { month, lastDay } = this.validate(command);
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'closeRevenueMonth', input: { month } },
      async (trx) => {
        const totals = (await markRecognizedThrough(trx, month)).filter((t) => t.amountMinor !== 0);
        const closeId = uuidv7();
        const journalEntryIds: string[] = [];
        for (const total of totals) {
          const journalEntryId = uuidv7();
          await insertJournalEntry(trx, {
            id: journalEntryId,
            entryDate: lastDay,
            memo: `Revenue recognized through ${month} (${total.currency})`,
            sourceType: 'MONTH_CLOSE',
            sourceId: closeId,
            lines: recognitionLines(total.amountMinor, total.currency).map((l) => ({
              account: l.account,
              side: l.side,
              amount_minor: l.amountMinor,
              currency: l.currency,
            })),
          });
          journalEntryIds.push(journalEntryId);
        }
        return { month, recognized: totals, journalEntryIds };
      },
    );
    return value;
  }
}
