import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import type { RouteHandler } from '@c2c/platform/core';
import type { Metrics } from '@c2c/platform/observability';
import type { GatewayContext } from './context.ts';

/**
 * What a composition root may add to the gateway without the gateway knowing it (the ops console
 * and the reconciliation job are added this way, from @c2c/ops).
 */
export interface GatewayExtension {
  /** Apollo plugins, run after the gateway's own. */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** An HTTP route, tried after /metrics and before /graphql; true when it answered. */
  routes?: RouteHandler;
  /** Called once Apollo has started; the gateway's metrics registry is ready for more series. */
  started?(gateway: { apollo: ApolloServer<GatewayContext>; metrics: Metrics }): void;
  /**
   * Why the gateway is not ready yet (e.g. `{ status: 'seeding', seeding: {…} }`, the body of a 503
   * on /readyz), or null when this extension does not hold it back.
   */
  readiness?(): Record<string, unknown> | null;
  /** Called when the gateway stops (before Apollo stops). */
  stopping?(): Promise<void>;
}
