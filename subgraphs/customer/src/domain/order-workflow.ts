import type { Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import {
  findOrderForUpdate,
  findStepsByOrderIds,
  saveChecks,
  updateOrder,
  updateOrderStep,
  type OrderCheckRow,
  type OrderRow,
} from '../data/order.repository.ts';
import type { OrderSystem } from '../data/tables.ts';
import type { CrmPort } from '../ports/crm.port.ts';
import { ERROR_MAX, orderStatus } from './order.rules.ts';

/** What a system reported about its step of an order. */
export type OrderStepOutcome =
  { kind: 'done'; at: Date } | { kind: 'failed'; error: string; attempts: number | null };

export type ReportedCheck = Omit<OrderCheckRow, 'order_id'>;

/**
 * The CRM's record of orders, moved by billing's, the ERP's and its own acknowledgements inside
 * the consumers' transactions. The order row is locked first, so acknowledgements arriving
 * together cannot miss each other's step. As for amendments: a success after a failure (a
 * replayed dead letter) turns the step DONE, a failure never undoes a success, and `attempts`
 * adds up the failed deliveries reported with a dead letter and the one that succeeded. Orders
 * are our own bookkeeping (tables `sales_order`, `order_check`, `order_step`); only reopening the
 * opportunity goes to the CRM of record.
 */
export class OrderWorkflow {
  constructor(private readonly crm: CrmPort) {}

  /**
   * Billing refused the order: every check's outcome; nothing was created anywhere, so the
   * opportunity is OPEN again (version + 1).
   */
  async rejected(
    trx: AnyTransaction,
    orderId: string,
    checks: readonly ReportedCheck[],
    at: Date,
    log: Logger,
  ) {
    const order = await findOrderForUpdate(trx, orderId);
    if (!order) return log.warn({ orderId }, 'order.rejected for an unknown order ignored');
    await saveChecks(trx, orderId, checks);
    await updateOrderStep(trx, orderId, 'ERP', { status: 'SKIPPED' });
    await updateOrderStep(trx, orderId, 'CRM', { status: 'SKIPPED' });
    await updateOrder(trx, orderId, { rejected: true });
    await this.record(trx, { ...order, rejected: true }, 'BILLING', { kind: 'done', at }, log);
    // Nothing was created: the deal goes back to OPEN, to be fixed and won again (a new order).
    await this.crm.reopenOpportunity(trx, order.opportunity_id);
    log.info(
      {
        orderId,
        correlationId: order.correlation_id,
        failed: checks.filter((c) => c.status === 'FAILED').map((c) => c.name),
      },
      'order rejected',
    );
  }

  /** Billing created the subscription (and its first invoice, if any). */
  async subscribed(
    trx: AnyTransaction,
    report: {
      orderId: string;
      subscriptionId: string;
      invoiceId: string | null;
      checks: readonly ReportedCheck[];
      at: Date;
    },
    log: Logger,
  ) {
    const order = await findOrderForUpdate(trx, report.orderId);
    if (!order) return log.warn({ orderId: report.orderId }, 'order.subscribed for an unknown order ignored');
    await saveChecks(trx, order.id, report.checks);
    await updateOrder(trx, order.id, {
      subscription_id: report.subscriptionId,
      first_invoice_id: report.invoiceId,
    });
    if (report.invoiceId === null) await this.skipErp(trx, order.id);
    await this.record(
      trx,
      { ...order, first_invoice_id: report.invoiceId },
      'BILLING',
      { kind: 'done', at: report.at },
      log,
    );
  }

  /** A system's acknowledgement or failure of its step. */
  async step(
    trx: AnyTransaction,
    orderId: string,
    system: OrderSystem,
    outcome: OrderStepOutcome,
    log: Logger,
  ) {
    const order = await findOrderForUpdate(trx, orderId);
    if (!order) return log.warn({ orderId, system }, 'acknowledgement for an unknown order ignored');
    await this.record(trx, order, system, outcome, log);
  }

  private async skipErp(trx: AnyTransaction, orderId: string) {
    const steps = await findStepsByOrderIds(trx, [orderId]);
    if (steps.find((s) => s.system === 'ERP')?.status === 'PENDING') {
      await updateOrderStep(trx, orderId, 'ERP', { status: 'SKIPPED' });
    }
  }

  private async record(
    trx: AnyTransaction,
    order: OrderRow,
    system: OrderSystem,
    outcome: OrderStepOutcome,
    log: Logger,
  ): Promise<void> {
    const steps = await findStepsByOrderIds(trx, [order.id]);
    const step = steps.find((s) => s.system === system);
    if (!step) throw new Error(`order ${order.id} has no ${system} step`);
    if (step.status === 'DONE' || step.status === 'SKIPPED') {
      log.debug({ orderId: order.id, system, outcome: outcome.kind }, 'order step already settled');
    } else if (outcome.kind === 'done') {
      await updateOrderStep(trx, order.id, system, {
        status: 'DONE',
        attempts: step.attempts + 1,
        completedAt: outcome.at,
      });
      step.status = 'DONE';
    } else {
      await updateOrderStep(trx, order.id, system, {
        status: 'FAILED',
        attempts: step.attempts + Math.max(outcome.attempts ?? 1, 1),
        lastError: outcome.error.slice(0, ERROR_MAX),
      });
      step.status = 'FAILED';
    }
    const status = orderStatus(order.rejected, steps, order.first_invoice_id !== null);
    if (status !== order.status) {
      await updateOrder(trx, order.id, { status });
      const fields = { orderId: order.id, correlationId: order.correlation_id, system, status };
      if (status === 'EXCEPTION') log.warn(fields, 'order step failed');
      else log.info(fields, 'order advanced');
    }
  }
}
