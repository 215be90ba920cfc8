/**
 * A cross-process lock on a path: an exclusively created lock file holding the owner's pid. A lock
 * whose owner process is gone (killed mid-work) is taken over. Waiters poll with a bounded delay
 * and report that they are waiting.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { LetheError } from '../errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(path, 'utf8'));
    } catch {
      return false; // being written or removed right now
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      rmSync(path, { force: true }); // a crashed owner's lock
    }
    return false;
  }
}

/** Run fn while holding the lock at `path` (waits up to timeoutMs for another holder). */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; onWait?: () => void } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 6 * 3600_000);
  let waited = false;
  while (!tryLock(path)) {
    if (!waited) opts.onWait?.();
    waited = true;
    if (Date.now() > deadline) throw new LetheError('timed out waiting for a lock', { where: path });
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
