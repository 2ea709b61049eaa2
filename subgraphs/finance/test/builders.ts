import { randomUUID } from 'node:crypto';
import type { CloudEvent } from '@c2c/platform/events';
import { unique } from '@c2c/platform/testing';

export interface LineData {
  id: string;
  description: string;
  quantity: number;
  unitPriceMinor: number;
  amountMinor: number;
  taxMinor: number;
  taxRatePpm: number;
  periodStart: string;
  periodEnd: string;
}

/** A line of `invoice.issued` as docs/events.md describes it. */
export function aLine(overrides: Partial<LineData> = {}): LineData {
  return {
    id: randomUUID(),
    description: 'Team plan, 1 seat',
    quantity: 1,
    unitPriceMinor: 3100,
    amountMinor: 3100,
    taxMinor: 589,
    taxRatePpm: 190_000,
    periodStart: '2026-01-15',
    periodEnd: '2026-02-15',
    ...overrides,
  };
}

/** Data of `invoice.issued`; totals follow the lines unless overridden. */
export function anInvoice(overrides: Record<string, unknown> = {}, lines: LineData[] = [aLine()]) {
  const subtotalMinor = lines.reduce((sum, l) => sum + l.amountMinor, 0);
  const taxMinor = lines.reduce((sum, l) => sum + l.taxMinor, 0);
  return {
    id: randomUUID(),
    number: unique('INV'),
    kind: 'INVOICE',
    customerId: randomUUID(),
    subscriptionId: randomUUID(),
    businessUnit: 'EMEA',
    currency: 'USD',
    issuedOn: '2026-01-15',
    dueOn: '2026-02-14',
    subtotalMinor,
    taxMinor,
    totalMinor: subtotalMinor + taxMinor,
    lines,
    ...overrides,
  };
}

/** A credit note reversing `amountMinor` (positive) of a line, plus tax. */
export function aCreditNote(overrides: Record<string, unknown> = {}, amountMinor = 802, taxMinor = 152) {
  return anInvoice({ number: unique('CN'), kind: 'CREDIT_NOTE', ...overrides }, [
    aLine({
      amountMinor: -amountMinor,
      taxMinor: -taxMinor,
      unitPriceMinor: -amountMinor,
      periodStart: '2026-01-20',
      periodEnd: '2026-02-15',
    }),
  ]);
}

/** A CloudEvents envelope as billing's relay would publish it. */
export function anEvent(
  type: string,
  data: { id: string } & Record<string, unknown>,
  overrides: Partial<CloudEvent> = {},
): CloudEvent {
  return {
    specversion: '1.0',
    id: randomUUID(),
    source: type.startsWith('customer.') ? 'customer' : 'subscription',
    type,
    subject: data.id,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
    correlationid: unique('corr'),
    ...overrides,
  };
}
