import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './usage-error.ts';

/** The supergraph that the new schema is compared with. */
export interface Baseline {
  /** e.g. "schema/supergraph.graphql at origin/main (3f2a1b0)" or "file /tmp/base.graphql". */
  label: string;
  sdl: string;
}

function git(root: string, args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function revExists(root: string, rev: string): boolean {
  try {
    git(root, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** `origin/main` when the clone has it, else `HEAD`: the last published supergraph. */
export function defaultBaseRev(root: string): string {
  return revExists(root, 'origin/main') ? 'origin/main' : 'HEAD';
}

/**
 * Loads the baseline: `base` is a file (an exported supergraph) when one exists at that path,
 * otherwise a git revision whose committed `supergraphPath` is read with `git show`.
 */
export function loadBaseline(root: string, supergraphPath: string, base?: string): Baseline {
  if (base !== undefined && existsSync(resolve(root, base))) {
    return { label: `file ${base}`, sdl: readFileSync(resolve(root, base), 'utf8') };
  }
  if (base === undefined && !revExists(root, 'HEAD')) {
    // Not a git checkout (an unpacked tarball): the committed file is the best baseline there is.
    return {
      label: `${supergraphPath} (working tree; not a git repository)`,
      sdl: readFileSync(resolve(root, supergraphPath), 'utf8'),
    };
  }
  const rev = base ?? defaultBaseRev(root);
  if (!revExists(root, rev)) {
    throw new UsageError(`--base ${rev}: neither a file nor a git revision of ${root}`);
  }
  try {
    const sdl = git(root, ['show', `${rev}:./${supergraphPath}`]);
    const sha = git(root, ['rev-parse', '--short', rev]).trim();
    return { label: `${supergraphPath} at ${rev} (${sha})`, sdl };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new UsageError(`cannot read ${supergraphPath} at ${rev}: ${stderr || (error as Error).message}`);
  }
}
