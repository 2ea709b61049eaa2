import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolverMap, scalarResolversFor } from '@c2c/platform/graphql';
import { type SubgraphDefinition, type SubgraphDeps } from '@c2c/platform/subgraph';
import { EVENT_CATALOG } from '@c2c/schema/events';
import { financeConsumers, onBillingDeadLetter } from './consumers/index.ts';
import type { FinanceContext } from './context.ts';
import { createFinanceLoaders } from './data/loaders.ts';
import { erpAmountsToPay } from './domain/erp-reads.ts';
import { SCHEMA } from './data/tables.ts';
import { isUuid, normalizeId } from './domain/ids.ts';
import { LedgerQueries } from './domain/ledger.queries.ts';
import { MonthCloseService } from './domain/month-close.service.ts';
import { PaymentService } from './domain/payment.service.ts';
import { PostingService } from './domain/posting.service.ts';
import { ReconciliationService } from './domain/reconciliation.service.ts';
import { ReplicaService } from './domain/replica.service.ts';
import { ledgerFromEnv } from './ports/ledger-config.ts';
import { BillingSubscription } from './resolvers/BillingSubscription.ts';
import { Customer } from './resolvers/Customer.ts';
import { ErpControlTotal } from './resolvers/ErpControlTotal.ts';
import { ErpDocument } from './resolvers/ErpDocument.ts';
import { Invoice } from './resolvers/Invoice.ts';
import { JournalEntry, JournalLine } from './resolvers/JournalEntry.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Payment } from './resolvers/Payment.ts';
import { Query } from './resolvers/Query.ts';
import { ReconciliationQueries } from './resolvers/Reconciliation.queries.ts';
import type { Resolvers } from './generated/resolvers.ts';

const ROOT = join(import.meta.dirname, '..');
export const financeTypeDefs = readFileSync(join(ROOT, 'schema.graphql'), 'utf8');

/** Builds the ERP subgraph from injected dependencies; no ports, no environment. */
export function buildFinanceSubgraph(deps: SubgraphDeps): SubgraphDefinition<FinanceContext> {
  const ledger = ledgerFromEnv(deps.env, deps.db, deps.log, () => deps.clock.now());
  const payments = new PaymentService(deps, ledger);
  const monthClose = new MonthCloseService(deps);
  const posting = new PostingService(deps, ledger);
  const replicas = new ReplicaService();
  const ledgerQueries = new LedgerQueries(deps.db);
  const reconciliation = new ReconciliationService(deps.db, ledger);
  const consumers = financeConsumers({ posting, replicas });
  return {
    name: SCHEMA,
    migrationsDir: join(ROOT, 'migrations'),
    typeDefs: financeTypeDefs,
    resolvers: resolverMap<Resolvers>({
      ...scalarResolversFor(financeTypeDefs),
      Query: { ...Query, ...ReconciliationQueries },
      Mutation,
      Invoice,
      Payment,
      Customer,
      BillingSubscription,
      JournalEntry,
      JournalLine,
      ErpControlTotal,
      ErpDocument,
    }),
    createContext: (base) => {
      const loaders = createFinanceLoaders(deps.db, deps.clock);
      const erpAmounts = erpAmountsToPay(ledger);
      return {
        ...base,
        loaders,
        payments,
        monthClose,
        ledger: ledgerQueries,
        reconciliation,
        loadReceivable: (id) =>
          isUuid(id) ? loaders.receivableById.load(normalizeId(id)) : Promise.resolve(null),
        erpAmountToPay: (id) => (erpAmounts ? erpAmounts.load(id) : Promise.resolve(null)),
      };
    },
    consumers,
    eventCatalog: EVENT_CATALOG,
    deadLetterFields: { query: 'erpDeadLetters', mutation: 'replayErpDeadLetters' },
    auditLogField: 'erpAuditLog',
    onDeadLetter: onBillingDeadLetter(posting),
    connect: async (log) => {
      await ledger.connect(log);
      ledger.watch(payments, log);
    },
    close: () => ledger.close(),
  };
}
