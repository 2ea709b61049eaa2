import type { CustomerRow } from '../../data/customer.repository.ts';
import type { ContractLineRow } from '../../data/contract.repository.ts';
import type { ContractLine, ContractValue } from '../crm.port.ts';

/** A contract line as stored. */
type Line = Pick<
  ContractLineRow,
  'subscription_id' | 'customer_id' | 'currency' | 'annual_value_minor' | 'active' | 'source_version'
>;

/**
 * A customer's contract value from its lines: the active lines' sum in the first currency (one
 * currency per customer); zero when it has lines but none active; nulls when it has none.
 */
export function contractValueOf(lines: readonly Line[]): ContractValue {
  const totals = new Map<string, number>();
  for (const line of lines)
    if (line.active)
      totals.set(line.currency, (totals.get(line.currency) ?? 0) + Number(line.annual_value_minor));
  const [first] = [...totals.keys()].sort();
  if (first !== undefined) return { contractValueMinor: totals.get(first)!, currency: first };
  return lines.length > 0
    ? { contractValueMinor: 0, currency: lines[0]!.currency }
    : { contractValueMinor: null, currency: null };
}

/**
 * Applies `lines` in their order to what is stored, as one upsert and one recomputation after
 * each would: a line not newer than its subscription's is stale and changes nothing; a line
 * written keeps the customer its subscription was first recorded under. Pure. Returns each
 * line's outcome (its customer's value right after it: nulls for a customer the CRM does not
 * have), the lines to write (each subscription's last state) and the customers' new values.
 */
export function applyLines(
  stored: readonly Line[],
  customers: readonly Pick<CustomerRow, 'id' | 'contract_value_minor' | 'contract_currency'>[],
  lines: readonly ContractLine[],
): {
  results: { written: boolean; value: ContractValue }[];
  lines: Line[];
  values: { customerId: string; value: ContractValue }[];
} {
  const state = new Map(stored.map((line) => [line.subscription_id, { ...line }]));
  const values = new Map<string, ContractValue>(
    customers.map((c) => [
      c.id,
      {
        contractValueMinor: c.contract_value_minor === null ? null : Number(c.contract_value_minor),
        currency: c.contract_currency,
      },
    ]),
  );
  const changedLines = new Set<string>();
  const changedValues = new Set<string>();
  const results = lines.map((line) => {
    const existing = state.get(line.subscriptionId);
    const written = !existing || existing.source_version < line.sourceVersion;
    if (written) {
      state.set(line.subscriptionId, {
        subscription_id: line.subscriptionId,
        customer_id: existing?.customer_id ?? line.customerId,
        currency: line.currency,
        annual_value_minor: line.annualValueMinor,
        active: line.active,
        source_version: line.sourceVersion,
      });
      changedLines.add(line.subscriptionId);
      if (values.has(line.customerId)) {
        values.set(
          line.customerId,
          contractValueOf([...state.values()].filter((l) => l.customer_id === line.customerId)),
        );
        changedValues.add(line.customerId);
      }
    }
    const value = values.get(line.customerId) ?? { contractValueMinor: null, currency: null };
    return { written, value: { ...value } };
  });
  return {
    results,
    lines: [...changedLines].map((id) => state.get(id)!),
    values: [...changedValues].map((customerId) => ({ customerId, value: values.get(customerId)! })),
  };
}
