/** The side of a bench child process: report ready over IPC, answer requests, stop on SIGTERM. */

export interface ChildService {
  url: string;
  /** Answers a parent's IPC request (`type` picks the action). */
  handle?: (message: { type: string } & Record<string, unknown>) => Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * With BENCH_CPU_PROFILE_DIR set, the child records a V8 CPU profile from start to stop and writes
 * `<dir>/<script>-<pid>.cpuprofile` (`--cpu-prof` cannot go through NODE_OPTIONS); summarise it
 * with `npx tsx bench/profile-summary.ts <file>`.
 */
async function startProfiler(): Promise<(() => Promise<void>) | null> {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  if (!dir) return null;
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const { basename, join } = await import('node:path');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    const name = basename(process.argv[1] ?? 'child').replace(/\.ts$/, '');
    writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}

export function runChild(start: () => Promise<ChildService>): void {
  let writeProfile: (() => Promise<void>) | null = null;
  startProfiler()
    .then((stopProfiler) => {
      writeProfile = stopProfiler;
      return start();
    })
    .then((service) => {
      process.on('message', (message: { type: string; id: number } & Record<string, unknown>) => {
        const answer = async () => {
          if (message.type === 'usage') return { cpu: process.cpuUsage(), memory: process.memoryUsage() };
          if (!service.handle) throw new Error(`no handler for ${message.type}`);
          return service.handle(message);
        };
        answer()
          .then((result) => process.send?.({ ...result, id: message.id }))
          .catch((error: unknown) =>
            process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
          );
      });
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        service
          .stop()
          .then(() => writeProfile?.())
          .then(
            () => process.exit(0),
            (error: unknown) => {
              console.error(error);
              process.exit(1);
            },
          );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      process.once('disconnect', stop);
      process.send?.({ type: 'ready', url: service.url });
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    });
}

/** The store a child opens, passed in BENCH_STORE. */
export type StoreSpec = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; url: string };

export function storeFromEnv(): StoreSpec {
  const raw = process.env.BENCH_STORE;
  if (!raw) throw new Error('BENCH_STORE is not set');
  return JSON.parse(raw) as StoreSpec;
}
