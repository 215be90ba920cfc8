/**
 * The model cache (.lethe-cache, or LETHE_CACHE_DIR): what `lethe prepare` and studies leave
 * there, and its upkeep. Layout (src/study/prepare.ts): models/<key>/ a finished target/oracle
 * pair, models/<key>.partial/ one being built (or left by a killed process), models/<key>.lock a
 * lock file holding its owner's pid. A .partial folder or a lock is stale when no live process
 * holds the key's lock; prune removes exactly those, and rm refuses an entry in use.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';

export type CacheEntryKind = 'models' | 'partial' | 'lock' | 'other';

export interface CacheEntry {
  /** The key (folder or file name without .partial/.lock), as `cache rm` takes it. */
  key: string;
  kind: CacheEntryKind;
  path: string;
  bytes: number;
  modified: string;
  /** The pid in the key's lock file when that process is alive (the entry is in use). */
  lockedBy: number | null;
  /** A .partial folder or lock that no live process holds: safe to remove. */
  stale: boolean;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live owner of a lock file, or null (no file, unreadable, or its process is gone). */
function liveOwner(lockPath: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(lockPath, 'utf8').trim());
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : null;
}

/** Total size of a file or folder (symbolic links counted as themselves, not followed). */
export function diskBytes(path: string): number {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const name of readdirSync(path)) n += diskBytes(join(path, name));
  return n;
}

function kindOf(name: string, isDir: boolean): { key: string; kind: CacheEntryKind } {
  if (name.endsWith('.lock') && !isDir) return { key: name.slice(0, -5), kind: 'lock' };
  if (name.endsWith('.partial') && isDir) return { key: name.slice(0, -8), kind: 'partial' };
  if (isDir) return { key: name, kind: 'models' };
  return { key: name, kind: 'other' };
}

/** Every entry under <cacheDir>/models, sorted by key; an absent cache is empty. */
export function listCache(cacheDir: string): CacheEntry[] {
  const models = join(cacheDir, 'models');
  if (!existsSync(models)) return [];
  const out: CacheEntry[] = [];
  for (const name of readdirSync(models).sort()) {
    const path = join(models, name);
    const st = lstatSync(path);
    const { key, kind } = kindOf(name, st.isDirectory());
    const lockedBy = liveOwner(join(models, `${key}.lock`));
    out.push({
      key,
      kind,
      path,
      bytes: diskBytes(path),
      modified: st.mtime.toISOString(),
      lockedBy,
      stale: (kind === 'partial' || kind === 'lock') && lockedBy === null,
    });
  }
  return out;
}

export interface CacheRemoval {
  removed: CacheEntry[];
  bytes: number;
}

function remove(entries: CacheEntry[], dryRun: boolean): CacheRemoval {
  if (!dryRun) for (const e of entries) rmSync(e.path, { recursive: true, force: true });
  return { removed: entries, bytes: entries.reduce((n, e) => n + e.bytes, 0) };
}

/**
 * Remove the entries of the given keys (finished models, partial builds and locks alike). A key
 * that matches nothing, or one a live process holds, is a ConfigError and nothing is removed.
 */
export function removeCacheEntries(cacheDir: string, keys: readonly string[], dryRun = false): CacheRemoval {
  const all = listCache(cacheDir);
  const chosen: CacheEntry[] = [];
  for (const key of keys) {
    const hits = all.filter((e) => e.key === key);
    if (hits.length === 0) {
      throw new ConfigError(`no cache entry "${key}"`, {
        where: join(cacheDir, 'models'),
        hint: 'list the keys with `lethe cache ls`',
      });
    }
    const busy = hits.find((e) => e.lockedBy !== null);
    if (busy) {
      throw new ConfigError(`cache entry "${key}" is in use by process ${busy.lockedBy}`, {
        where: busy.path,
        hint: 'wait for it to finish, or stop that process first',
      });
    }
    chosen.push(...hits);
  }
  return remove(chosen, dryRun);
}

/** Remove stale .partial folders and locks of dead processes (with all: every entry not in use). */
export function pruneCache(cacheDir: string, opts: { all?: boolean; dryRun?: boolean } = {}): CacheRemoval {
  const chosen = listCache(cacheDir).filter((e) => (opts.all ? e.lockedBy === null : e.stale));
  return remove(chosen, opts.dryRun ?? false);
}
