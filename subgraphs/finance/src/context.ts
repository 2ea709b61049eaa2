import type { RequestContext } from '@c2c/platform/graphql';
import type { FinanceLoaders } from './data/loaders.ts';
import type { ReceivableRow } from './data/receivable.repository.ts';
import type { LedgerQueries } from './domain/ledger.queries.ts';
import type { MonthCloseService } from './domain/month-close.service.ts';
import type { PaymentService } from './domain/payment.service.ts';
import type { ReconciliationService } from './domain/reconciliation.service.ts';

/** What a resolver reaches: services and the request's loaders, never the database itself. */
export interface FinanceContext extends RequestContext {
  loaders: FinanceLoaders;
  payments: PaymentService;
  monthClose: MonthCloseService;
  ledger: LedgerQueries;
  reconciliation: ReconciliationService;
  /** Loads a billing document's receivable through the request's loader; null for unknown or malformed ids. */
  loadReceivable(invoiceId: string): Promise<ReceivableRow | null>;
  /**
   * What the external ERP says is still to pay on a posted document (minor units), batched per
   * request; null with the built-in ledger or when the ERP does not hold the document.
   */
  erpAmountToPay(invoiceId: string): Promise<number | null>;
}
