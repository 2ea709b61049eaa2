import type { AnyDb } from '@c2c/platform/db';
import type { RequestContext } from '@c2c/platform/graphql';
import type { FinanceLoaders } from './data/loaders.ts';
import type { ReceivableRow } from './data/receivable.repository.ts';
import type { MonthCloseService } from './domain/month-close.service.ts';
import type { PaymentService } from './domain/payment.service.ts';

export interface FinanceContext extends RequestContext {
  db: AnyDb;
  loaders: FinanceLoaders;
  payments: PaymentService;
  monthClose: MonthCloseService;
  /** Loads a billing document's receivable through the request's loader; null for unknown or malformed ids. */
  loadReceivable(invoiceId: string): Promise<ReceivableRow | null>;
}
