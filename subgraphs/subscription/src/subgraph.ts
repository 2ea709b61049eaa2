import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUuid } from '@c2c/platform/core';
import { resolverMap, scalarResolversFor } from '@c2c/platform/graphql';
import { type SubgraphDefinition, type SubgraphDeps } from '@c2c/platform/subgraph';
import { EVENT_CATALOG } from '@c2c/schema/events';
import { onOrderDeadLetter, subscriptionConsumers } from './consumers/index.ts';
import type { SubscriptionContext } from './context.ts';
import { createSubscriptionLoaders } from './data/loaders.ts';
import { SCHEMA } from './data/tables.ts';
import { AmendmentMonitor } from './domain/amendment-monitor.service.ts';
import { AmendmentService } from './domain/amendment.service.ts';
import { BillingRunService } from './domain/billing-run.service.ts';
import { BillToService } from './domain/bill-to.service.ts';
import { ContractChangeService } from './domain/contract-change.service.ts';
import { CrmAcknowledgementService } from './domain/crm-acknowledgement.service.ts';
import { ErpAcknowledgementService } from './domain/erp-acknowledgement.service.ts';
import { isPlanCode } from './domain/plan.rules.ts';
import { OrderService } from './domain/order.service.ts';
import { PlanService } from './domain/plan.service.ts';
import { PlatformChangeService } from './domain/platform-changes.service.ts';
import { ReconciliationService } from './domain/reconciliation.service.ts';
import { SubscriptionService } from './domain/subscription.service.ts';
import { UsageService } from './domain/usage.service.ts';
import { startUsageBackbone, usageBackboneSettingsFrom } from './ingestion/usage-backbone.ts';
import { registerBillingMetrics } from './metrics.ts';
import { billingFromEnv } from './ports/billing-config.ts';
import { Amendment } from './resolvers/Amendment.ts';
import { AmendmentStep } from './resolvers/AmendmentStep.ts';
import { BillingContractValue } from './resolvers/BillingContractValue.ts';
import { BillingControlTotal } from './resolvers/BillingControlTotal.ts';
import { BillingDocument } from './resolvers/BillingDocument.ts';
import { BillingSubscription } from './resolvers/BillingSubscription.ts';
import { Customer } from './resolvers/Customer.ts';
import { Invoice } from './resolvers/Invoice.ts';
import { InvoiceLine } from './resolvers/InvoiceLine.ts';
import { MonitorQueries } from './resolvers/Monitor.queries.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Opportunity } from './resolvers/Opportunity.ts';
import { BillingOrderSubscription, OrderQueries } from './resolvers/Order.queries.ts';
import { Plan } from './resolvers/Plan.ts';
import { Query } from './resolvers/Query.ts';
import { ReconciliationQueries } from './resolvers/Reconciliation.queries.ts';
import { StuckAmendment } from './resolvers/StuckAmendment.ts';
import { UsageReconciliationLine } from './resolvers/UsageReconciliationLine.ts';
import type { Resolvers } from './generated/resolvers.ts';

const ROOT = join(import.meta.dirname, '..');
export const subscriptionTypeDefs = readFileSync(join(ROOT, 'schema.graphql'), 'utf8');

/** Builds the billing subgraph from injected dependencies; no ports, no environment. */
export function buildSubscriptionSubgraph(deps: SubgraphDeps): SubgraphDefinition<SubscriptionContext> {
  const billing = billingFromEnv(deps.env);
  const plans = new PlanService(deps, billing);
  const subscriptions = new SubscriptionService(deps, billing);
  const billingRun = new BillingRunService(deps, billing);
  const amendments = new AmendmentService(deps, billing);
  const reconciliation = new ReconciliationService(deps.db);
  const monitor = new AmendmentMonitor(deps.db);
  const orders = new OrderService(deps, billing);
  const usage = new UsageService(deps, billing);
  // The scaled-out shape (NATS_URL): usage also arrives on the backbone (docs/usage.md).
  const backbone = usageBackboneSettingsFrom(deps.env);
  let ingesting: { stop(): Promise<void> } | null = null;
  const consumers = subscriptionConsumers({
    billTo: new BillToService(billing),
    erpAcknowledgements: new ErpAcknowledgementService(billing),
    crmAcknowledgements: new CrmAcknowledgementService(),
    orders,
    contractChanges: new ContractChangeService(amendments),
  });
  return {
    name: SCHEMA,
    migrationsDir: join(ROOT, 'migrations'),
    typeDefs: subscriptionTypeDefs,
    resolvers: resolverMap<Resolvers>({
      ...scalarResolversFor(subscriptionTypeDefs),
      Query: { ...Query, ...ReconciliationQueries, ...MonitorQueries, ...OrderQueries },
      Mutation,
      Plan,
      BillingSubscription,
      Invoice,
      InvoiceLine,
      Customer,
      Opportunity,
      BillingOrderSubscription,
      Amendment,
      AmendmentStep,
      BillingControlTotal,
      BillingDocument,
      BillingContractValue,
      StuckAmendment,
      UsageReconciliationLine,
    }),
    createContext: (base) => {
      const loaders = createSubscriptionLoaders(deps.db, billing);
      return {
        ...base,
        loaders,
        plans,
        subscriptions,
        billingRun,
        amendments,
        reconciliation,
        usage,
        monitor,
        orders,
        loadPlan: (code) => (isPlanCode(code) ? loaders.planByCode.load(code) : Promise.resolve(null)),
        loadSubscription: (id) =>
          isUuid(id) ? loaders.subscriptionById.load(id.toLowerCase()) : Promise.resolve(null),
        loadInvoice: (id) =>
          isUuid(id) ? loaders.invoiceById.load(id.toLowerCase()) : Promise.resolve(null),
        loadAmendment: (id) =>
          isUuid(id) ? loaders.amendmentById.load(id.toLowerCase()) : Promise.resolve(null),
      };
    },
    consumers,
    eventCatalog: EVENT_CATALOG,
    deadLetterFields: { query: 'billingDeadLetters', mutation: 'replayBillingDeadLetters' },
    auditLogField: 'billingAuditLog',
    onDeadLetter: onOrderDeadLetter(orders),
    connect: async (log) => {
      await billing.connect(log);
      billing.watch(new PlatformChangeService(deps.db, billing), log);
      if (backbone) ingesting = await startUsageBackbone({ db: deps.db, usage, log, settings: backbone });
    },
    close: async () => {
      await ingesting?.stop();
      await billing.close();
    },
    metrics: (sink) =>
      registerBillingMetrics(sink, deps.db, billingRun, {
        counters: usage.counters,
        now: () => deps.clock.now(),
      }),
  };
}
