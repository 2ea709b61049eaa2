import { silentLogger } from '@c2c/platform/core';
import { openTestDatabase, useToken } from '@c2c/platform/testing';
import { startStack, type Stack, type StackOptions } from '@c2c/apps/stack';

/** What a test may set; the rest is the test shape: a fresh database, free ports, no logs. */
export type TestStackOptions = Partial<
  Pick<StackOptions, 'clock' | 'retry' | 'gateway' | 'log' | 'roverConfig' | 'env'>
>;

/**
 * The whole stack over real HTTP for one test file: a fresh database (PGlite in memory, or a new
 * database on the server in DATABASE_URL), every port chosen by the system, and `graphql(…)` calls
 * to its gateway sent as an admin (`useToken`). `stop()` also drops the database.
 */
export async function startTestStack(options: TestStackOptions = {}): Promise<Stack> {
  const database = await openTestDatabase();
  let stack: Stack;
  try {
    stack = await startStack({
      dataDir: null,
      database,
      ports: { gateway: 0 },
      log: options.log ?? silentLogger(),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.gateway ? { gateway: options.gateway } : {}),
      ...(options.roverConfig ? { roverConfig: options.roverConfig } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
  } catch (error) {
    await database.close();
    throw error;
  }
  useToken(stack.gatewayUrl, await stack.token('admin'));
  const stop = stack.stop;
  stack.stop = async () => {
    await stop();
    await database.close();
  };
  return stack;
}
