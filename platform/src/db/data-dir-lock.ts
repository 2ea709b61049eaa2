import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * Claims a data directory for this process. PGlite corrupts its files if two processes open the
 * same directory, so a second live process is refused with a clear message.
 *
 * On Linux the claim is an OS lock: a Unix socket in the abstract namespace named after the
 * directory's real path. Binding it is atomic (of two processes starting together exactly one
 * gets it) and the kernel releases it when the process dies, SIGKILL included, so there is no stale
 * lock to take over and no race in taking it over. `c2c.lock` in the directory only names the
 * holder's pid for the message. Elsewhere: a pid file created exclusively (best effort: two
 * processes taking over a dead holder's file at the same instant can both succeed).
 */
export async function lockDataDir(dir: string): Promise<() => void> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new Error(
      `cannot create the data directory ${dir} (${(error as NodeJS.ErrnoException).code}): create it with write access for this process, or set DATA_DIR to another directory`,
      { cause: error },
    );
  }
  if (process.platform !== 'linux') return lockWithPidFile(dir);
  const info = join(dir, 'c2c.lock');
  const name = `\0c2c-data-dir-${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 40)}`;
  const server = createServer((socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(name, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    const holder = readHolder(info);
    throw new Error(
      `data directory ${dir} is in use by ${holder ? `process ${holder}` : 'another process'}; stop it first or set DATA_DIR to another directory`,
    );
  }
  server.unref();
  writeFileSync(info, String(process.pid));
  return () => {
    server.close();
    if (readHolder(info) === String(process.pid)) rmSync(info, { force: true });
  };
}

function readHolder(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function lockWithPidFile(dir: string): () => void {
  const path = join(dir, 'c2c.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readHolder(path));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `data directory ${dir} is in use by process ${holder}; stop it first or set DATA_DIR to another directory`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not lock data directory ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
