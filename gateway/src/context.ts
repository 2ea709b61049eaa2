import type { Principal } from '@c2c/platform/auth';
import type { Logger } from '@c2c/platform/core';

/** What every request carries through the gateway's plugins and data sources. */
export interface GatewayContext {
  principal: Principal;
  caller: string;
  correlationId: string;
  requestId: string;
  log: Logger;
}
