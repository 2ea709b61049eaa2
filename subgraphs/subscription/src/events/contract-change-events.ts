import type { NewEvent } from '@c2c/platform/events';

/** Data of `contractchange.accepted`: billing applied a CRM contract change as a seat amendment. */
export interface ContractChangeAcceptedData {
  changeId: string;
  subscriptionId: string;
  amendmentId: string;
  seatsAfter: number;
}

/** Data of `contractchange.refused`: billing refused a CRM contract change; nothing changed. */
export interface ContractChangeRefusedData {
  changeId: string;
  subscriptionId: string;
  code: string;
  message: string;
}

export function contractChangeAcceptedEvent(
  data: ContractChangeAcceptedData,
): NewEvent<ContractChangeAcceptedData> {
  return { type: 'contractchange.accepted', subject: data.changeId, data };
}

export function contractChangeRefusedEvent(
  data: ContractChangeRefusedData,
): NewEvent<ContractChangeRefusedData> {
  return { type: 'contractchange.refused', subject: data.changeId, data };
}
