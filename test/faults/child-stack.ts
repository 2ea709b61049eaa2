import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { mintDevToken } from '@c2c/platform/auth';
import { type FaultPointName } from '@c2c/platform/core';
import { openDatabase, type Database } from '@c2c/platform/db';
import { useToken } from '@c2c/platform/testing';

// The embedded stack as a real child process (`npm start`'s entry, apps/stack/start.ts), so a fault
// point can SIGKILL it and a new process can start on the same data directory or database.

const ROOT = join(import.meta.dirname, '..', '..');

/** A free TCP port, chosen by the OS; reused by every restart of one child stack. */
export { freePort } from '@c2c/apps/ports';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildStack {
  gatewayUrl: string;
  /** Resolves when the process has exited, however. */
  exited: Promise<ChildExit>;
  output(): string;
  /** SIGTERM, the way an operator stops it: a clean shutdown that must exit 0. */
  stop(): Promise<ChildExit>;
}

export interface ChildStore {
  /** Environment of the child: DATA_DIR, or DATABASE_URL on a PostgreSQL server. */
  env: Record<string, string>;
  kind: 'pglite' | 'postgres';
  /** Opens the store in this process — only while no child runs on it (PGlite is single-process). */
  open(): Promise<Database>;
  /** Removes the store (drops the PostgreSQL database). */
  dispose(): Promise<void>;
}

/** A fresh store for a child stack: a PGlite data directory, or a new database when DATABASE_URL is set. */
export async function childStore(dataDir: string): Promise<ChildStore> {
  const server = process.env.DATABASE_URL;
  if (!server) {
    return {
      kind: 'pglite',
      env: { DATA_DIR: dataDir },
      open: () => openDatabase({ kind: 'pglite', dataDir }),
      dispose: async () => undefined,
    };
  }
  const name = `c2c_fault_${randomBytes(6).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    env: { DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    open: () => openDatabase({ kind: 'postgres', url: url.toString(), poolSize: 2 }),
    dispose: () => admin(`drop database if exists ${name} with (force)`),
  };
}

export interface ChildOptions {
  store: ChildStore;
  ports: { gateway: number; customer: number; subscription: number; finance: number };
  faultPoint?: FaultPointName;
}

/** Starts `node --import tsx apps/stack/start.ts` and waits for its ready banner. */
export async function startChildStack(options: ChildOptions): Promise<ChildStack> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.store.env,
    SEED: 'false',
    PORT: String(options.ports.gateway),
    CUSTOMER_PORT: String(options.ports.customer),
    SUBSCRIPTION_PORT: String(options.ports.subscription),
    FINANCE_PORT: String(options.ports.finance),
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
  };
  if (options.store.kind === 'pglite') delete env.DATABASE_URL;
  if (options.faultPoint) env.C2C_FAULT_POINT = options.faultPoint;
  else delete env.C2C_FAULT_POINT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/stack/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<ChildExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const gatewayUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child stack did not start within 60s:\n${output}`));
    }, 60_000);
    const onData = () => {
      const ready = /supergraph ready[\s\S]*?gateway\s+(http:\/\/\S+)/.exec(output);
      if (!ready?.[1]) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(ready[1]);
    };
    child.stdout.on('data', onData);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the child stack exited before it was ready (${JSON.stringify(exit)}):\n${output}`));
    });
  });
  // Tests that are not about authentication send as admin, from the issuer key in DATA_DIR.
  if (options.store.env.DATA_DIR)
    useToken(gatewayUrl, await mintDevToken(options.store.env.DATA_DIR, { role: 'admin' }));
  return {
    gatewayUrl,
    exited,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
