import type { NewEvent } from '@c2c/platform/events';

/** Data of `contract.synced`: the CRM applied a `subscription.*` event to the contract value. */
export interface ContractSyncedData {
  subscriptionId: string;
  customerId: string;
  /** The subscription version the event carried (an older one than applied already is acknowledged too). */
  subscriptionVersion: number;
  amendmentId?: string;
  /** The customer's contract value (ARR) after the event; null when the CRM has no such customer. */
  contractValueMinor: number | null;
  currency: string | null;
}

/** Data of `contractsync.failed`: the CRM gave up on a `subscription.*` event (dead-lettered). */
export interface ContractSyncFailedData {
  subscriptionId: string;
  amendmentId?: string;
  error: string;
  attempts: number;
}

export function contractSyncedEvent(data: ContractSyncedData): NewEvent<ContractSyncedData> {
  return {
    type: 'contract.synced',
    subject: data.subscriptionId,
    aggregateVersion: data.subscriptionVersion,
    data,
  };
}

export function contractSyncFailedEvent(data: ContractSyncFailedData): NewEvent<ContractSyncFailedData> {
  return { type: 'contractsync.failed', subject: data.subscriptionId, data };
}
