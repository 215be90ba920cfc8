/**
 * A cross-process lock on a path: an exclusively created lock file holding the owner's pid,
 * hostname and process start time as JSON. A lock whose owner is gone (killed mid-work, a zombie,
 * or its pid reused by another process) is taken over; so is a lock file that stayed empty or
 * garbled (its owner died between creating and writing it). Locks written on another host are
 * never judged dead from here. Waiters poll with a bounded delay and report that they are waiting.
 */
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LetheError } from '../errors.ts';

/** What a lock file records about its owner. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (Linux /proc), null where unknown. */
  started: number | null;
}

/** Start time (field 22 of /proc/<pid>/stat) and state; null where /proc is unavailable. */
function procStat(pid: number): { state: string; started: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], started: Number(rest[19]) };
  } catch {
    return null;
  }
}

/** True while a process with this pid runs on this machine (zombies count as dead). */
export function processAlive(pid: number, started: number | null = null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(pid);
  if (stat === null) return true; // no /proc: trust kill(0)
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return started === null || stat.started === started;
}

export function currentOwner(): LockOwner {
  return { pid: process.pid, host: hostname(), started: procStat(process.pid)?.started ?? null };
}

/** A lock file older than this that still holds no readable owner is from a crashed writer. */
const UNREADABLE_GRACE_MS = 10_000;

/** Whether the lock file at `path` belongs to a process that is gone. */
export function lockIsStale(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return false; // being removed right now
  }
  let owner: Partial<LockOwner> | null = null;
  try {
    const parsed = JSON.parse(text) as unknown;
    // Older lethe versions wrote the bare pid.
    owner = typeof parsed === 'number' ? { pid: parsed } : (parsed as Partial<LockOwner>);
  } catch {
    owner = null;
  }
  if (!owner || typeof owner.pid !== 'number') {
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (owner.host !== undefined && owner.host !== hostname()) return false;
  return !processAlive(owner.pid, typeof owner.started === 'number' ? owner.started : null);
}

function tryLock(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    try {
      writeSync(fd, JSON.stringify(currentOwner()));
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (lockIsStale(path)) rmSync(path, { force: true }); // a crashed owner's lock
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
    // A stale lock was just removed: try again at once rather than report waiting.
    if (!waited && !lockHeld(path)) continue;
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

/**
 * Remove the `<name>.partial` work folders in `dir` whose builder is gone: no `<name>.lock`, or
 * a stale one. Each is removed while holding its lock, so a process that starts resuming it at
 * the same moment is never pulled from under. `keep` names a partial to leave (the caller's own,
 * which it resumes). Returns the names removed.
 */
export function removeAbandonedPartials(dir: string, keep?: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.partial') || name === keep) continue;
    const lock = join(dir, `${name.slice(0, -'.partial'.length)}.lock`);
    // The second try succeeds when the first found a stale lock and removed it.
    if (!tryLock(lock) && !tryLock(lock)) continue; // a live builder holds it
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } finally {
      rmSync(lock, { force: true });
    }
  }
  return removed;
}

function lockHeld(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
