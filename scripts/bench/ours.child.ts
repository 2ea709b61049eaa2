import { buildGateway, gatewayConfigFromEnv } from '@c2c/gateway';
import { closeServer, createLogger, listen } from '@c2c/platform';
import { runChild } from './child-runtime.ts';

// (a) Our gateway as production runs it: its configuration read from the environment with
// NODE_ENV=production, so every feature production turns on by default is on here.

runChild(async () => {
  const config = gatewayConfigFromEnv({
    ...process.env,
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
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
