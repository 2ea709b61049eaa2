import { v7 as uuidv7 } from 'uuid';
import { cleanName, DomainError } from '@c2c/platform/core';
import { type AnyDb } from '@c2c/platform/db';
import { appendToOutbox } from '@c2c/platform/events';
import { runIdempotent } from '@c2c/platform/graphql';
import { type SubgraphDeps } from '@c2c/platform/subgraph';
import {
  findCustomerForUpdate,
  findCustomerPage,
  findCustomersByIds,
  insertCustomer,
  updateCustomerRow,
  type CustomerPageQuery,
  type CustomerRow,
} from '../data/customer.repository.ts';
import { SCHEMA } from '../data/tables.ts';
import { customerEvent } from '../events/customer-events.ts';
import { parseCustomerId, validateCountry, validateEmail, validateStatus } from './customer.rules.ts';

export interface CreateCustomerCommand {
  name: string;
  email: string;
  country: string;
  region?: string | null;
  businessUnit: string;
  segment?: string | null;
  parentId?: string | null;
  idempotencyKey: string;
}

export interface UpdateCustomerCommand {
  id: string;
  name?: string | null;
  email?: string | null;
  status?: string | null;
  country?: string | null;
  region?: string | null;
  businessUnit?: string | null;
  segment?: string | null;
  expectedVersion?: number | null;
  idempotencyKey: string;
}

export interface Caller {
  caller: string;
  correlationId: string;
}

/** CRM use cases. Each runs in one transaction with its idempotency record and outbox events. */
export class CustomerService {
  constructor(private readonly deps: SubgraphDeps) {}

  async createCustomer(command: CreateCustomerCommand, who: Caller): Promise<{ customerId: string }> {
    const values = {
      name: cleanName(command.name, 'name', 200),
      email: validateEmail(command.email),
      country: validateCountry(command.country),
      region: cleanName(command.region, 'region', 64, true),
      business_unit: cleanName(command.businessUnit, 'businessUnit', 64),
      segment: cleanName(command.segment, 'segment', 64, true),
      parent_id: command.parentId ? parseCustomerId(command.parentId, 'parentId') : null,
    };
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      { scope: who.caller, key: command.idempotencyKey, operation: 'createCustomer', input: values },
      async (trx) => {
        if (values.parent_id) await this.requireCustomer(trx, values.parent_id, 'parentId');
        const row = await insertCustomer(trx, { id: uuidv7(), status: 'ACTIVE', ...values });
        await appendToOutbox(trx, SCHEMA, SCHEMA, [customerEvent('customer.created', row)], who);
        return { customerId: row.id };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  async updateCustomer(command: UpdateCustomerCommand, who: Caller): Promise<{ customerId: string }> {
    const id = parseCustomerId(command.id, 'id');
    const changes: Parameters<typeof updateCustomerRow>[2] = {};
    if (command.name != null) changes.name = cleanName(command.name, 'name', 200);
    if (command.email != null) changes.email = validateEmail(command.email);
    if (command.status != null) changes.status = validateStatus(command.status);
    if (command.country != null) changes.country = validateCountry(command.country);
    if (command.region !== undefined) changes.region = cleanName(command.region, 'region', 64, true);
    if (command.businessUnit != null)
      changes.business_unit = cleanName(command.businessUnit, 'businessUnit', 64);
    if (command.segment !== undefined) changes.segment = cleanName(command.segment, 'segment', 64, true);
    const expectedVersion = command.expectedVersion ?? null;
    if (expectedVersion !== null && (!Number.isInteger(expectedVersion) || expectedVersion < 1)) {
      throw new DomainError(
        'INVALID_VERSION',
        'expectedVersion must be a positive integer',
        'expectedVersion',
      );
    }
    const { value } = await runIdempotent(
      this.deps.db,
      SCHEMA,
      {
        scope: who.caller,
        key: command.idempotencyKey,
        operation: 'updateCustomer',
        input: { id, changes, expectedVersion },
      },
      async (trx) => {
        const current = await findCustomerForUpdate(trx, id);
        if (!current) throw new DomainError('CUSTOMER_NOT_FOUND', `no customer ${id}`, 'id');
        if (expectedVersion !== null && current.version !== expectedVersion) {
          throw new DomainError(
            'VERSION_CONFLICT',
            `customer ${id} is at version ${current.version}, not ${expectedVersion}`,
            'expectedVersion',
          );
        }
        const row = await updateCustomerRow(trx, id, changes, current.version);
        await appendToOutbox(trx, SCHEMA, SCHEMA, [customerEvent('customer.updated', row)], who);
        return { customerId: row.id };
      },
    );
    this.deps.afterCommit();
    return value;
  }

  /** One page of customers ordered by (name, id), and the total count of the filter. */
  customerPage(query: CustomerPageQuery): Promise<{ rows: CustomerRow[]; totalCount: number }> {
    return findCustomerPage(this.deps.db, query);
  }

  private async requireCustomer(db: AnyDb, id: string, field: string): Promise<CustomerRow> {
    const [row] = await findCustomersByIds(db, [id]);
    if (!row) throw new DomainError('CUSTOMER_NOT_FOUND', `no customer ${id}`, field);
    return row;
  }
}
