import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A `npm run c2c -- <command>` subcommand. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** How the commands that talk to a running gateway find it and authenticate (in their --help). */
export const GATEWAY_HELP = `Commands that talk to the running gateway (dead-letters, replay, reconcile) take
  --url URL    the gateway's GraphQL endpoint; default: C2C_URL, else http://localhost:$PORT/graphql
               when PORT is set, else http://localhost:4000/graphql (where npm start listens)
  --token JWT  default: C2C_TOKEN, else a short-lived token minted with the development issuer's
               key in DATA_DIR (./.data, as npm start uses it), else none`;

/** A wrong call (unknown option, missing or invalid value): `npm run c2c` prints it and exits 2. */
export class UsageError extends Error {}

/** parseArgs, turning its complaints (unknown option, missing value, stray argument) into UsageErrors. */
export function parseOptions<T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
}

/** A whole number option from min to max, or a UsageError naming the option, the range and the value given. */
export function wholeNumber(option: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(
      `${option} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  return n;
}
