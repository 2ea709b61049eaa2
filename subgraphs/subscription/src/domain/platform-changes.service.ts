import type { Logger } from '@c2c/platform/core';
import type { AnyDb } from '@c2c/platform/db';
import type { BillingChanges, BillingPort } from '../ports/billing.port.ts';

/**
 * What an external billing platform's change feed (`BillingPort.watch`) hands the subgraph: a
 * change made in the platform itself, applied here in a transaction of its own. The built-in
 * adapter has no feed (its changes are ours, announced by our outbox), so nothing calls this yet.
 */
export class PlatformChangeService implements BillingChanges {
  constructor(
    private readonly db: AnyDb,
    private readonly billing: BillingPort,
  ) {}

  async invoicePaid(invoiceId: string, log: Logger): Promise<boolean> {
    const changed = await this.db.transaction().execute((trx) => this.billing.markPaid(trx, invoiceId));
    if (!changed) log.debug({ invoiceId }, 'platform payment: invoice unknown or not OPEN');
    return changed;
  }
}
