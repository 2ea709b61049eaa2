import { listenForApplied, type AppliedListener } from '@c2c/platform/events';
import type { Logger } from '@c2c/platform/core';
import type { EntityCacheConfig } from '../config.ts';
import type { EntityCache } from './entity-cache.ts';

/**
 * The scaled-out shape's invalidations: the subgraph processes announce on NATS (`<prefix>.applied`)
 * the events they applied or published, and this gateway's entity cache evicts what they change.
 *
 * - A shared store (Redis) needs one eviction per announcement: the replicas listen in one queue
 *   group (`<prefix>-gateway-cache`), so one of them evicts for all. A store in process needs every
 *   replica to hear every announcement: no queue group.
 * - While this gateway's NATS connection is down it cannot hear them: the cache is paused (every
 *   fetch goes to its subgraph). On reconnect, or when a subgraph announces it reconnected (what it
 *   announced meanwhile may be lost), the store is emptied and the cache resumes.
 * - An eviction that fails (Redis unreachable) is retried until it succeeds or the longest max age
 *   has passed (by then the entries it concerned are gone anyway); emptying the store, until it
 *   succeeds (the cache stays paused meanwhile).
 */
export async function listenForInvalidations(
  cache: EntityCache,
  config: EntityCacheConfig & { natsUrl: string },
  log: Logger,
  options: { shared: boolean; retryUntilMs?: number } = { shared: Boolean(config.redisUrl) },
): Promise<AppliedListener> {
  const retryUntilMs = options.retryUntilMs ?? config.maxAgeSeconds * 1000;
  const persist = async (what: string, work: () => Promise<unknown>, untilMs = retryUntilMs) => {
    const deadline = Date.now() + untilMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await work();
        return;
      } catch (error) {
        if (Date.now() >= deadline) {
          log.error({ err: error, attempts: attempt }, `entity cache: gave up on ${what}`);
          return;
        }
        if (attempt === 1) log.warn({ err: error }, `entity cache: ${what} failed; retrying`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  };
  const streamPrefix = config.streamPrefix ?? 'C2C';
  return listenForApplied({
    servers: config.natsUrl,
    streamPrefix,
    ...(options.shared ? { queue: `${streamPrefix.toLowerCase()}-gateway-cache` } : {}),
    connectionName: 'c2c-gateway-cache',
    log,
    onEvents: (events) => persist('an eviction', () => cache.applied(events)),
    onDisconnect: () => cache.pause(),
    onReset: async () => {
      cache.pause();
      // Paused until emptied: retried for as long as it takes.
      await persist('emptying the cache', () => cache.resume(), Number.POSITIVE_INFINITY);
    },
  });
}
