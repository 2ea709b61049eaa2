import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUuid } from '@c2c/platform/core';
import { resolverMap, scalarResolversFor } from '@c2c/platform/graphql';
import { type SubgraphDefinition, type SubgraphDeps } from '@c2c/platform/subgraph';
import { EVENT_CATALOG } from '@c2c/schema/events';
import { customerConsumers, onContractValueDeadLetter } from './consumers/index.ts';
import type { CustomerContext } from './context.ts';
import { createCustomerLoaders } from './data/loaders.ts';
import { SCHEMA } from './data/tables.ts';
import { ContractChangeService } from './domain/contract-change.service.ts';
import { ContractValueService } from './domain/contract-value.service.ts';
import { isCustomerId } from './domain/customer.rules.ts';
import { CustomerService } from './domain/customer.service.ts';
import { OpportunityService } from './domain/opportunity.service.ts';
import { OrderWorkflow } from './domain/order-workflow.ts';
import type { Resolvers } from './generated/resolvers.ts';
import { crmFromEnv } from './ports/crm-config.ts';
import { CrmContractValue } from './resolvers/CrmContractValue.ts';
import { ContractChange } from './resolvers/ContractChange.ts';
import { Customer } from './resolvers/Customer.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Opportunity } from './resolvers/Opportunity.ts';
import { Order } from './resolvers/Order.ts';
import { OrderStep } from './resolvers/OrderStep.ts';
import { Query } from './resolvers/Query.ts';
import { ReconciliationQueries } from './resolvers/Reconciliation.queries.ts';

const ROOT = join(import.meta.dirname, '..');
export const customerTypeDefs = readFileSync(join(ROOT, 'schema.graphql'), 'utf8');

/** Builds the CRM subgraph from injected dependencies; no ports, no environment. */
export function buildCustomerSubgraph(deps: SubgraphDeps): SubgraphDefinition<CustomerContext> {
  const crm = crmFromEnv(deps.env, deps.db);
  const service = new CustomerService(deps, crm);
  const contracts = new ContractValueService(crm);
  const opportunities = new OpportunityService(deps, crm);
  const orders = new OrderWorkflow(crm);
  const contractChanges = new ContractChangeService(deps, crm);
  const consumers = customerConsumers({ contracts, orders, changes: contractChanges });
  return {
    name: SCHEMA,
    migrationsDir: join(ROOT, 'migrations'),
    typeDefs: customerTypeDefs,
    resolvers: resolverMap<Resolvers>({
      ...scalarResolversFor(customerTypeDefs),
      Query: { ...Query, ...ReconciliationQueries },
      Mutation,
      Customer,
      CrmContractValue,
      Opportunity,
      Order,
      OrderStep,
      ContractChange,
    }),
    createContext: (base) => {
      const loaders = createCustomerLoaders(crm, deps.db);
      return {
        ...base,
        loaders,
        service,
        contracts,
        opportunities,
        contractChanges,
        loadCustomer: (id) =>
          isCustomerId(id) ? loaders.customerById.load(id.toLowerCase()) : Promise.resolve(null),
        loadOpportunity: (id) =>
          isUuid(id) ? loaders.opportunityById.load(id.toLowerCase()) : Promise.resolve(null),
        loadContractChange: (id) =>
          isUuid(id) ? loaders.contractChangeById.load(id.toLowerCase()) : Promise.resolve(null),
        loadOrder: (id) => (isUuid(id) ? loaders.orderById.load(id.toLowerCase()) : Promise.resolve(null)),
      };
    },
    consumers,
    eventCatalog: EVENT_CATALOG,
    deadLetterFields: { query: 'crmDeadLetters', mutation: 'replayCrmDeadLetters' },
    auditLogField: 'crmAuditLog',
    onDeadLetter: onContractValueDeadLetter(contracts, orders),
    connect: async (log) => {
      await crm.connect(log);
      crm.watch(service, log);
    },
    close: () => crm.close(),
  };
}
