import { closeServer, createLogger, listen } from '@c2c/platform';
import { gatewayConfigFromEnv } from './config.ts';
import { buildGateway } from './gateway.ts';

let config: ReturnType<typeof gatewayConfigFromEnv>;
try {
  config = gatewayConfigFromEnv(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const log = createLogger({ name: 'gateway', level: config.logLevel });
const gateway = await buildGateway(config, log);
const { url } = await listen(gateway.server, config.port, config.host);
log.info({ url, subgraphs: gateway.subgraphUrls }, 'gateway listening');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    log.info({ signal }, 'gateway stopping');
    await closeServer(gateway.server);
    await gateway.apollo.stop();
    gateway.agent.destroy();
    process.exit(0);
  });
}
