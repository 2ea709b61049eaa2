import type { BaseContext } from '@apollo/server';
import type { Logger } from 'pino';
import type { Principal } from '../auth/authorization.ts';

/** What every subgraph request carries: the verified caller, correlation and request ids, a logger. */
export interface RequestContext extends BaseContext {
  /** Who is calling (the principal's subject); idempotency keys are scoped to it. */
  caller: string;
  /** The identity the gateway verified and signed; checked by the SDL's authorization directives. */
  principal: Principal;
  correlationId: string;
  requestId: string;
  log: Logger;
}
