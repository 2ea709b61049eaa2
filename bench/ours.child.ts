import { buildGateway, gatewayConfigFromEnv } from '@c2c/gateway';
import { createLogger } from '@c2c/platform/core';
import { closeServer, listen } from '@c2c/platform/graphql';
import { runChild } from './child-runtime.ts';

// (a) Our gateway as production runs it: its configuration read from the environment with
// NODE_ENV=production (introspection off, settings required), bearer tokens verified against the
// bench issuer's JWKS URL, the run's subgraph secrets, mutations only from the safelist, no CORS
// origin and the cost rate limit on (the parent sets these: security.ts, ourGatewayEnv).

runChild(async () => {
  const config = gatewayConfigFromEnv({
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  // The comparison is only fair if these are what production runs; fail rather than measure less.
  if (
    !config.production ||
    config.safelistMode !== 'enforce-mutations' ||
    !config.auth.jwksUrl ||
    config.corsOrigins.length !== 0
  ) {
    throw new Error('our gateway is not in its production configuration');
  }
  const log = createLogger({ name: 'bench-gateway', level: 'warn', pretty: false });
  const gateway = await buildGateway(config, log);
  const { url } = await listen(gateway.server, 0, '127.0.0.1');
  return {
    url,
    stop: async () => {
      await closeServer(gateway.server);
      await gateway.apollo.stop();
      gateway.agent.destroy();
    },
  };
});
