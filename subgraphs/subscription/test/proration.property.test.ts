import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, applyRate, daysBetween, type IsoDate } from '@c2c/platform/core';
import { propertySettings } from '@c2c/platform/testing/property';
import type { PeriodSeatLine } from '../src/data/invoice.repository.ts';
import { creditedSeats } from '../src/domain/period-timeline.ts';
import { prorate, prorationLines } from '../src/domain/proration.ts';

// Properties of the proration arithmetic (docs/billing-rules.md §1). Fixed seed; FC_SEED and
// FC_RUNS run them longer (docs/billing-rules.md).
const settings = propertySettings(200);

const RATES = [0, 50_000, 100_000, 190_000, 200_000];
const period = { start: '2026-01-31' as IsoDate, end: '2026-02-28' as IsoDate };
const periodDays = daysBetween(period.start, period.end);

describe('proration lines (property)', () => {
  it('split over rates, the lines sum to the one rounding of the change, each taxed HALF_UP once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: periodDays - 1 }),
        fc.array(fc.record({ seats: fc.integer({ min: 1, max: 50 }), rate: fc.constantFrom(...RATES) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.boolean(),
        (unitPriceMinor, offset, parts, credit) => {
          const delta = parts.reduce((sum, part) => sum + part.seats, 0);
          const effectiveDate = addDays(period.start, offset);
          const proration = prorate({
            seatsBefore: credit ? delta + 1 : 1,
            seatsAfter: credit ? 1 : delta + 1,
            unitPriceMinor,
            period,
            effectiveDate,
          });
          const lines = prorationLines({
            description: 'Pro',
            proration,
            unitPriceMinor,
            parts: parts.map((part) => ({ seats: part.seats, ratePpm: part.rate })),
            effectiveDate,
            period,
          });
          expect(lines.reduce((sum, line) => sum + line.amountMinor, 0)).toBe(proration.amountMinor);
          expect(lines.reduce((sum, line) => sum + line.quantity, 0)).toBe(proration.seatDelta);
          for (const [i, line] of lines.entries()) {
            expect(line.taxMinor).toBe(applyRate(line.amountMinor, parts[i]!.rate));
            // Never more than one minor unit away from the line's own seat-days.
            const exact = (line.quantity * unitPriceMinor * proration.remainingDays) / periodDays;
            expect(Math.abs(line.amountMinor - exact)).toBeLessThanOrEqual(1);
            expect(Math.sign(line.amountMinor) * Math.sign(proration.seatDelta)).not.toBe(-1);
          }
        },
      ),
      settings,
    );
  });

  it('a credit takes the newest seats first and never credits more seats than were removed', () => {
    const line = fc.record({
      quantity: fc.integer({ min: -5, max: 8 }).filter((q) => q !== 0),
      tax_rate_ppm: fc.constantFrom(...RATES),
    });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.integer({ min: 1, max: 20 }), (raw, removed) => {
        const lines: PeriodSeatLine[] = raw.map((l, i) => ({
          ...l,
          seq: i + 1,
          kind: l.quantity > 0 ? 'INVOICE' : 'CREDIT_NOTE',
          tax_rate_missing: false,
        }));
        const groups = creditedSeats(lines, removed, { ratePpm: 123_000, missing: false });
        expect(groups.reduce((sum, g) => sum + g.seats, 0)).toBe(removed);
        // The newest remaining layer comes first.
        const stack: number[] = [];
        for (const l of lines) {
          if (l.quantity > 0) for (let i = 0; i < l.quantity; i += 1) stack.push(l.tax_rate_ppm);
          else stack.splice(Math.max(0, stack.length + l.quantity));
        }
        const newest = stack.at(-1);
        if (newest !== undefined) expect(groups[0]?.rate.ratePpm).toBe(newest);
        else expect(groups).toEqual([{ seats: removed, rate: { ratePpm: 123_000, missing: false } }]);
      }),
      settings,
    );
  });
});
