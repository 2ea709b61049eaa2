import { describe, expect, it } from 'vitest';
import type { OrderStepStatus, OrderSystem } from '../src/data/tables.ts';
import { orderStatus } from '../src/domain/order.rules.ts';

// An order's status follows its steps, whatever order the acknowledgements arrive in.

const steps = (billing: OrderStepStatus, erp: OrderStepStatus, crm: OrderStepStatus) =>
  (
    [
      ['BILLING', billing],
      ['ERP', erp],
      ['CRM', crm],
    ] as [OrderSystem, OrderStepStatus][]
  ).map(([system, status]) => ({ system, status }));

describe('order status', () => {
  it('walks VALIDATING → INVOICED → POSTED → COMPLETED', () => {
    expect(orderStatus(false, steps('PENDING', 'PENDING', 'PENDING'), false)).toBe('VALIDATING');
    expect(orderStatus(false, steps('DONE', 'PENDING', 'PENDING'), true)).toBe('INVOICED');
    expect(orderStatus(false, steps('DONE', 'DONE', 'PENDING'), true)).toBe('POSTED');
    expect(orderStatus(false, steps('DONE', 'DONE', 'DONE'), true)).toBe('COMPLETED');
  });

  it('is SUBSCRIBED without a first invoice, and completes with the ERP step skipped', () => {
    expect(orderStatus(false, steps('DONE', 'SKIPPED', 'PENDING'), false)).toBe('SUBSCRIBED');
    expect(orderStatus(false, steps('DONE', 'SKIPPED', 'DONE'), false)).toBe('COMPLETED');
  });

  it('does not run ahead of billing: ERP or CRM acknowledgements first still wait for billing', () => {
    expect(orderStatus(false, steps('PENDING', 'DONE', 'DONE'), false)).toBe('VALIDATING');
    expect(orderStatus(false, steps('DONE', 'PENDING', 'DONE'), true)).toBe('INVOICED');
  });

  it('is EXCEPTION while any step failed, and REJECTED once billing refused it', () => {
    expect(orderStatus(false, steps('FAILED', 'PENDING', 'PENDING'), false)).toBe('EXCEPTION');
    expect(orderStatus(false, steps('DONE', 'DONE', 'FAILED'), true)).toBe('EXCEPTION');
    expect(orderStatus(true, steps('DONE', 'SKIPPED', 'SKIPPED'), false)).toBe('REJECTED');
  });
});
