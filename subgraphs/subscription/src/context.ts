import type { RequestContext } from '@c2c/platform/graphql';
import type { AmendmentRow } from './data/amendment.repository.ts';
import type { InvoiceRow } from './data/invoice.repository.ts';
import type { SubscriptionLoaders } from './data/loaders.ts';
import type { PlanRow } from './data/plan.repository.ts';
import type { SubscriptionRow } from './data/subscription.repository.ts';
import type { AmendmentMonitor } from './domain/amendment-monitor.service.ts';
import type { AmendmentService } from './domain/amendment.service.ts';
import type { BillingRunService } from './domain/billing-run.service.ts';
import type { OrderService } from './domain/order.service.ts';
import type { PlanService } from './domain/plan.service.ts';
import type { ReconciliationService } from './domain/reconciliation.service.ts';
import type { SubscriptionService } from './domain/subscription.service.ts';
import type { UsageService } from './domain/usage.service.ts';

/** What a resolver reaches: services and the request's loaders, never the database itself. */
export interface SubscriptionContext extends RequestContext {
  loaders: SubscriptionLoaders;
  plans: PlanService;
  subscriptions: SubscriptionService;
  billingRun: BillingRunService;
  amendments: AmendmentService;
  reconciliation: ReconciliationService;
  usage: UsageService;
  /** Read-only view of the amendment workflow for operators. */
  monitor: AmendmentMonitor;
  /** Orders billing fulfilled (reconciliation reads). */
  orders: OrderService;
  /** Loaders behind id checks: unknown or malformed keys give null, never a database error. */
  loadPlan(code: string): Promise<PlanRow | null>;
  loadSubscription(id: string): Promise<SubscriptionRow | null>;
  loadInvoice(id: string): Promise<InvoiceRow | null>;
  loadAmendment(id: string): Promise<AmendmentRow | null>;
}
