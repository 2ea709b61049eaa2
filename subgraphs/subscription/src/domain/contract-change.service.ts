import { DomainError, type IsoDate, type Logger } from '@c2c/platform/core';
import type { AnyTransaction } from '@c2c/platform/db';
import { appendToOutbox, type Causality } from '@c2c/platform/events';
import { inSavepoint } from '../data/savepoint.ts';
import { SCHEMA } from '../data/tables.ts';
import { contractChangeAcceptedEvent, contractChangeRefusedEvent } from '../events/contract-change-events.ts';
import type { AmendmentService } from './amendment.service.ts';

/** A commercial amendment recorded in the CRM (`contractchange.requested`). */
export interface RequestedContractChange {
  changeId: string;
  subscriptionId: string;
  seats: number;
  effectiveDate: IsoDate;
  reason: string | null;
}

/**
 * Billing's part of a commercial amendment recorded in the CRM, in the consumer's transaction:
 * the seat amendment by the same rules and workflow as `amendSubscription`, or — when a rule
 * refuses it — nothing at all and the refusal with billing's code and reason. Either way billing
 * answers the CRM.
 */
export class ContractChangeService {
  constructor(private readonly amendments: AmendmentService) {}

  async apply(
    trx: AnyTransaction,
    change: RequestedContractChange,
    causality: Causality,
    log: Logger,
  ): Promise<void> {
    try {
      const result = await inSavepoint(trx, 'contract_change', () =>
        this.amendments.amendInTransaction(
          trx,
          {
            subscriptionId: change.subscriptionId,
            seats: change.seats,
            effectiveDate: change.effectiveDate,
            reason: change.reason ?? 'recorded in the CRM',
          },
          { caller: 'crm', correlationId: causality.correlationId },
        ),
      );
      await appendToOutbox(
        trx,
        SCHEMA,
        SCHEMA,
        [
          contractChangeAcceptedEvent({
            changeId: change.changeId,
            subscriptionId: change.subscriptionId,
            amendmentId: result.amendmentId,
            seatsAfter: change.seats,
          }),
        ],
        causality,
      );
      log.info({ changeId: change.changeId, amendmentId: result.amendmentId }, 'contract change applied');
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await appendToOutbox(
        trx,
        SCHEMA,
        SCHEMA,
        [
          contractChangeRefusedEvent({
            changeId: change.changeId,
            subscriptionId: change.subscriptionId,
            code: error.code,
            message: error.message,
          }),
        ],
        causality,
      );
      log.info({ changeId: change.changeId, code: error.code }, 'contract change refused');
    }
  }
}
