import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '@c2c/platform/auth';
import { freePort } from '@c2c/apps/ports';

// `npm start`'s first start as a user sees it: a child process on a fresh PGlite directory with a
// small demo book. Killed with SIGKILL in the middle of seeding, the next start finishes the seed
// (and says so); /readyz answers `seeding` until the book is complete.

const ROOT = join(import.meta.dirname, '..', '..');
const CUSTOMERS = 4;
const dataDir = mkdtempSync(join(tmpdir(), 'c2c-first-start-'));
let ports: Record<'PORT' | 'CUSTOMER_PORT' | 'SUBSCRIPTION_PORT' | 'FINANCE_PORT', string>;
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  /** Resolves when `predicate(output)` holds; rejects when the child exits first or after 90 s. */
  until(predicate: (output: string) => boolean, what: string): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(): Started {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...ports,
    DATA_DIR: dataDir,
    SEED_CUSTOMERS: String(CUSTOMERS),
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
  };
  for (const name of ['DATABASE_URL', 'C2C_FAULT_POINT', 'SEED', 'NODE_ENV']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/stack/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: string) => {
    output += chunk;
    for (const waiter of waiters) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    until: (predicate, what) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(output)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} within 90s:\n${output}`));
        }, 90_000);
        waiters.add(check);
        void exited.then((exit) => {
          if (!predicate(output))
            reject(new Error(`exited (${JSON.stringify(exit)}) before ${what}:\n${output}`));
        });
        check();
      }),
  };
}

const gateway = () => `http://127.0.0.1:${ports.PORT}`;

async function readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${gateway()}/readyz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the first npm start', () => {
  it('says seeding on /readyz, and after a SIGKILL mid-seed the next start finishes the book once', async () => {
    ports = {
      PORT: String(await freePort()),
      CUSTOMER_PORT: String(await freePort()),
      SUBSCRIPTION_PORT: String(await freePort()),
      FINANCE_PORT: String(await freePort()),
    };
    const first = start();
    // The first line comes before the stack's modules are loaded.
    await first.until((o) => o.includes('Starting the customer-to-cash stack'), 'first line');
    expect(first.output()).not.toContain('Opening PGlite');
    await first.until((o) => /Seeding demo book: \d+% \(\d+\/\d+, subscriptions\)/.test(o), 'subscriptions');
    const during = await readyz();
    expect(during.status).toBe(503);
    expect(during.body).toMatchObject({ status: 'seeding', seeding: { total: 1 + 3 * CUSTOMERS + 12 } });
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(first.output()).not.toContain('Ready:');

    const second = start();
    await second.until((o) => o.includes('Ready: '), 'ready banner');
    expect(second.output()).toMatch(
      /The demo seed started \S+ was interrupted: finishing it \(4 customers as of/,
    );
    expect(second.output()).not.toContain('Seeding a demo book of');
    expect(second.output()).toMatch(/Seeded 4 customers, 21 plans, 4 subscriptions/);
    expect(second.output().trimEnd().split('\n').at(-1)).toBe(`Ready: ${gateway()}/graphql`);
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
    // Nothing twice: exactly the book's customers, each with one subscription.
    const token = await mintDevToken(dataDir, { role: 'admin' });
    const answer = await fetch(`${gateway()}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: '{ customers(first: 20) { totalCount nodes { subscriptions { id } } } }',
      }),
    });
    const { data } = (await answer.json()) as {
      data: { customers: { totalCount: number; nodes: { subscriptions: { id: string }[] }[] } };
    };
    expect(data.customers.totalCount).toBe(CUSTOMERS);
    expect(data.customers.nodes.map((n) => n.subscriptions.length)).toEqual([1, 1, 1, 1]);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    // A complete book is left alone.
    const third = start();
    await third.until((o) => o.includes('Ready: '), 'ready banner');
    expect(third.output()).not.toMatch(/Seed|seed started/);
    third.child.kill('SIGTERM');
    await third.exited;
  });
});
