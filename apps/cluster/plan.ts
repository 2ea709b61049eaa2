import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { loadDevIssuerKey } from '@c2c/platform/auth';
import { subgraphVariables } from '@c2c/gateway/config';
import { ROVER_CONFIG, subgraphsOf } from '@c2c/schema/subgraphs';
import { buildAll } from '../build.ts';
import { entryPointsFor } from '../entry-points.ts';
import { freePort } from '../lib/ports.ts';
import { setupSubgraphRoles, type SubgraphSchema } from '@c2c/cli/db-roles';

export { freePort };

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * The scaled-out shape on one machine: built JavaScript run by `node`, every process configured
 * only by its environment — N gateway replicas and N replicas of each subgraph against one
 * PostgreSQL (a schema and a role per subgraph) and NATS JetStream, with a small round-robin proxy
 * in front of each group (the part a Kubernetes Service plays in production).
 */

export interface ClusterOptions {
  /** An administrator's PostgreSQL URL: roles and schemas are set up with it; subgraphs get their own. */
  databaseUrl: string;
  natsUrl: string;
  /** Replicas of each subgraph and of the gateway (default 2). */
  replicas?: number;
  /** The gateway proxy's port (0: any free port). Replicas and subgraph proxies take free ports. */
  port?: number;
  host?: string;
  /** Another Rover config than rover.yaml (its subgraphs are built and started). */
  roverConfig?: string;
  /** The dev issuer's key directory (tokens: `DATA_DIR=… npm run token`). */
  dataDir: string;
  streamPrefix?: string;
  /** Restart a process that exits on its own (default true; tests that kill replicas turn it off). */
  autoRestart?: boolean;
  /** Extra environment for every subgraph process (e.g. EVENT retries, LOG_LEVEL). */
  env?: Record<string, string>;
  /** Extra environment for every gateway process (e.g. SUBGRAPH_MUTATION_TIMEOUT_MS for a long billing run). */
  gatewayEnv?: Record<string, string>;
  /** Where process output goes, one prefixed line at a time. */
  output?: (line: string) => void;
  /** Extra Node.js flags for every process (the bench passes `--cpu-prof` ones). */
  nodeArgs?: string[];
  /**
   * The gateways' entity cache, shared in this Redis and invalidated by the subgraphs'
   * announcements on NATS (docs/cache.md). Without it the gateways keep the cache off.
   */
  entityCache?: { redisUrl: string; prefix?: string };
}

export interface ClusterProcess {
  name: string;
  replica: number;
  port: number;
  child: ChildProcess | null;
  /** Sends a signal to the replica (SIGKILL: a crash). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again (same port), with extra environment if given, and waits until it is ready. */
  start(env?: Record<string, string>): Promise<void>;
  /** True while its process runs. */
  running(): boolean;
}

export interface Cluster {
  /** The front proxy: round-robin over the gateway replicas. */
  gatewayUrl: string;
  processes: ClusterProcess[];
  /** Per subgraph, its role's DATABASE_URL. */
  databaseUrls: Record<SubgraphSchema, string>;
  replica(name: string, index: number): ClusterProcess;
  stop(): Promise<void>;
}

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93];

async function waitReady(url: string, child: () => ChildProcess | null, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = child();
    if (!running || running.exitCode !== null || running.signalCode !== null)
      throw new Error(`${url}: the process exited before it was ready`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} was not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A round-robin HTTP proxy. The request body is buffered (GraphQL requests are small), so a request
 * refused at connect time (the replica is down) is sent to the next replica; once a replica has
 * the request, a failure is a 502 — it may have acted on it.
 */
export function roundRobinProxy(upstreams: () => number[], host: string): Server {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const downUntil = new Map<number, number>();
  let next = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ports = upstreams();
      const now = Date.now();
      const order = ports.map((_, i) => ports[(next + i) % ports.length] as number);
      next = (next + 1) % Math.max(ports.length, 1);
      const candidates = [
        ...order.filter((p) => (downUntil.get(p) ?? 0) <= now),
        ...order.filter((p) => (downUntil.get(p) ?? 0) > now),
      ];
      const attempt = (index: number): void => {
        const port = candidates[index];
        if (port === undefined) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              errors: [{ message: 'no replica is available', extensions: { code: 'BAD_GATEWAY' } }],
            }),
          );
          return;
        }
        const upstream = httpRequest(
          {
            host,
            port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'content-length': String(body.length) },
            agent,
          },
          (response) => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(res);
          },
        );
        let sent = false;
        upstream.on('socket', (socket) => {
          if (!socket.connecting) sent = true;
          else socket.once('connect', () => (sent = true));
        });
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (!sent || error.code === 'ECONNREFUSED') {
            downUntil.set(port, Date.now() + 1000);
            attempt(index + 1);
          } else if (!res.headersSent) {
            res.writeHead(502, { 'content-type': 'application/json' });
            res.end(
              JSON.stringify({
                errors: [{ message: 'the replica failed mid-request', extensions: { code: 'BAD_GATEWAY' } }],
              }),
            );
          } else res.destroy();
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  server.on('close', () => agent.destroy());
  return server;
}

/**
 * What a gateway replica needs to reach and sign for every subgraph: `<NAME>_URL` and
 * `<NAME>_SUBGRAPH_SECRET` for each subgraph given (the launcher gives those of rover.yaml).
 */
export function gatewaySubgraphEnv(
  urls: Record<string, string>,
  secrets: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(urls).flatMap(([name, url]) => {
      const variables = subgraphVariables(name);
      const secret = secrets[name];
      if (!secret) throw new Error(`no secret for subgraph ${name}`);
      return [
        [variables.url, url],
        [variables.secret, secret],
      ];
    }),
  );
}

/** What the launcher builds and starts for a Rover config: its subgraphs, in order, and every entry point. */
export function clusterPlan(roverConfig: string): {
  subgraphs: string[];
  entryPoints: Record<string, string>;
} {
  const list = subgraphsOf(roverConfig);
  return { subgraphs: list.map((s) => s.name), entryPoints: entryPointsFor(list) };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const replicas = options.replicas ?? 2;
  const host = options.host ?? '127.0.0.1';
  const output = options.output ?? ((line: string) => process.stdout.write(`${line}\n`));
  const plan = clusterPlan(options.roverConfig ?? ROVER_CONFIG);
  const SUBGRAPH_SCHEMAS = plan.subgraphs;
  await buildAll(undefined, plan.entryPoints);
  const { urls: databaseUrls } = await setupSubgraphRoles({
    schemas: SUBGRAPH_SCHEMAS,
    adminUrl: options.databaseUrl,
    connectionLimit: replicas * 12,
  });
  const secrets: Record<SubgraphSchema, string> = Object.fromEntries(
    SUBGRAPH_SCHEMAS.map((s) => [s, randomBytes(32).toString('hex')]),
  );
  const processes: ClusterProcess[] = [];
  const servers: Server[] = [];
  let stopping = false;
  let color = 0;

  const define = (
    name: string,
    replica: number,
    port: number,
    env: Record<string, string>,
    readyPath: string,
  ) => {
    const tint = COLORS[color++ % COLORS.length];
    const prefix = `\u001b[${tint}m${`${name}#${replica}`.padEnd(15)}\u001b[0m|`;
    const entry: ClusterProcess = {
      name,
      replica,
      port,
      child: null,
      kill: async (signal = 'SIGTERM') => {
        const child = entry.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill(signal);
        // A process that does not stop within 10 s is killed.
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
      running: () => Boolean(entry.child && entry.child.exitCode === null && entry.child.signalCode === null),
      start: async (extra?: Record<string, string>) => {
        // A process that dies while starting (NATS still recovering its streams after a restart, the
        // database refusing connections for a moment) is given two more tries, as a supervisor would.
        for (let attempt = 1; ; attempt++) {
          try {
            return await launch(extra ?? {});
          } catch (error) {
            if (attempt >= 3 || stopping) throw error;
            output(`${prefix} did not start (${(error as Error).message}); trying again`);
            await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
          }
        }
      },
    };
    const launch = async (extra: Record<string, string>) => {
      const child = spawn(
        process.execPath,
        [...(options.nodeArgs ?? []), '--enable-source-maps', join(ROOT, 'dist', `${name}.js`)],
        {
          cwd: ROOT,
          env: { PATH: process.env.PATH ?? '', HOST: host, PORT: String(port), ...env, ...extra },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      entry.child = child;
      for (const stream of [child.stdout, child.stderr]) {
        let buffered = '';
        stream.setEncoding('utf8').on('data', (chunk: string) => {
          buffered += chunk;
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          for (const line of lines) if (line) output(`${prefix} ${line}`);
        });
      }
      child.once('exit', (code, signal) => {
        if (stopping || entry.child !== child) return;
        output(`${prefix} exited (${signal ?? code})`);
        if (options.autoRestart !== false) {
          setTimeout(() => {
            if (!stopping && entry.child === child)
              entry.start().catch((error: unknown) => output(`${prefix} restart failed: ${String(error)}`));
          }, 1000);
        }
      });
      await waitReady(`http://${host}:${port}${readyPath}`, () => (entry.child === child ? child : null));
    };
    processes.push(entry);
    return entry;
  };

  try {
    const subgraphProxyPorts = {} as Record<SubgraphSchema, number>;
    for (const schema of SUBGRAPH_SCHEMAS) {
      const group: ClusterProcess[] = [];
      for (let i = 1; i <= replicas; i++) {
        group.push(
          define(
            schema,
            i,
            await freePort(),
            {
              DATABASE_URL: databaseUrls[schema]!,
              SUBGRAPH_SECRET: secrets[schema]!,
              NATS_URL: options.natsUrl,
              NATS_STREAM_PREFIX: options.streamPrefix ?? 'C2C',
              DB_POOL_SIZE: '8',
              LOG_LEVEL: 'warn',
              ...options.env,
            },
            '/readyz',
          ),
        );
      }
      // Replicas start one after another: the first applies the migrations (under an advisory lock).
      for (const entry of group) await entry.start();
      const proxy = roundRobinProxy(() => group.map((g) => g.port), host);
      const port = await freePort();
      await new Promise<void>((resolve) => proxy.listen(port, host, resolve));
      servers.push(proxy);
      subgraphProxyPorts[schema] = port;
    }
    // The dev issuer's key exists before the gateways start: two replicas creating it at once would
    // each keep a different key.
    await loadDevIssuerKey(options.dataDir);
    const gateways: ClusterProcess[] = [];
    for (let i = 1; i <= replicas; i++) {
      gateways.push(
        define(
          'gateway',
          i,
          await freePort(),
          {
            DATA_DIR: options.dataDir,
            ...gatewaySubgraphEnv(
              Object.fromEntries(
                SUBGRAPH_SCHEMAS.map((s) => [s, `http://${host}:${subgraphProxyPorts[s]}/graphql`]),
              ),
              secrets,
            ),
            LOG_LEVEL: 'warn',
            ...(options.entityCache
              ? {
                  NATS_URL: options.natsUrl,
                  NATS_STREAM_PREFIX: options.streamPrefix ?? 'C2C',
                  ENTITY_CACHE_REDIS_URL: options.entityCache.redisUrl,
                  ...(options.entityCache.prefix
                    ? { ENTITY_CACHE_REDIS_PREFIX: options.entityCache.prefix }
                    : {}),
                }
              : {}),
            ...options.gatewayEnv,
          },
          '/healthz',
        ),
      );
    }
    await Promise.all(gateways.map((g) => g.start()));
    const front = roundRobinProxy(() => gateways.map((g) => g.port), host);
    const frontPort = options.port ?? 0;
    await new Promise<void>((resolve) => front.listen(frontPort, host, resolve));
    servers.push(front);
    const address = front.address();
    const port = typeof address === 'object' && address ? address.port : frontPort;
    return {
      gatewayUrl: `http://${host}:${port}/graphql`,
      processes,
      databaseUrls,
      replica: (name, index) => {
        const found = processes.find((p) => p.name === name && p.replica === index);
        if (!found) throw new Error(`no replica ${name}#${index}`);
        return found;
      },
      stop: async () => {
        stopping = true;
        await Promise.all(processes.map((p) => p.kill('SIGTERM')));
        for (const server of servers) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      },
    };
  } catch (error) {
    stopping = true;
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    for (const server of servers) server.close();
    throw error;
  }
}
