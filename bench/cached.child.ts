import { buildGateway, gatewayConfigFromEnv } from '@c2c/gateway';
import { createLogger } from '@c2c/platform/core';
import { closeServer, listen } from '@c2c/platform/graphql';
import { runChild } from './child-runtime.ts';

// Our gateway in its production configuration (as ours.child.ts) with the entity cache on: in
// process, or in the Redis of ENTITY_CACHE_REDIS_URL (the parent gives this run its own key prefix).
// Nothing writes during the read bench (the subgraphs run without relay or consumers and no
// mutation is sent), so no event can change what is cached: the gateway is told events are
// delivered (`deliversEvents`) without a listener, which this run cannot tell apart from one that
// hears none.

runChild(async () => {
  const config = gatewayConfigFromEnv({
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ENTITY_CACHE: 'on',
  });
  if (
    !config.production ||
    config.safelistMode !== 'enforce-mutations' ||
    !config.auth.jwksUrl ||
    !config.entityCache.enabled
  ) {
    throw new Error('our gateway is not in its production configuration with the cache on');
  }
  const log = createLogger({ name: 'bench-gateway-cached', level: 'warn', pretty: false });
  const gateway = await buildGateway(config, log, [], { deliversEvents: true });
  if (!gateway.cache) throw new Error('the entity cache did not start');
  const { url } = await listen(gateway.server, 0, '127.0.0.1');
  return {
    url,
    stop: async () => {
      await closeServer(gateway.server);
      await gateway.apollo.stop();
      gateway.agent.destroy();
      // The run's keys go with it.
      await gateway.cache?.resume();
      await gateway.cache?.close();
    },
  };
});
