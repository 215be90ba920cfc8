/** `lethe cache ls|rm|prune`: the prepared-model cache, its sizes, and stale partial builds and locks. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type CacheEntry,
  type CacheRemoval,
  listCache,
  pruneCache,
  removeCacheEntries,
} from '../../api/cache.ts';
import { defaultCacheDir } from '../../api/environment.ts';

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

function state(e: CacheEntry): string {
  if (e.lockedBy !== null) return `in use (pid ${e.lockedBy})`;
  return e.stale ? 'stale' : 'ready';
}

function report(r: CacheRemoval, dryRun: boolean, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ dryRun, bytes: r.bytes, removed: r.removed })}\n`);
    return;
  }
  const verb = dryRun ? 'would remove' : 'removed';
  for (const e of r.removed) process.stdout.write(`${verb} ${e.path} (${mib(e.bytes)})\n`);
  process.stdout.write(`${verb} ${r.removed.length} entries, ${mib(r.bytes)}\n`);
}

export function registerCache(program: Command): void {
  const cache = program
    .command('cache')
    .description('list and clean the prepared-model cache (ls, rm, prune)');
  const dirOption = (c: Command) =>
    c
      .option('--cache <dir>', 'the cache folder (env LETHE_CACHE_DIR)', defaultCacheDir())
      .option('--json', 'print JSON');
  dirOption(cache.command('ls').description('list cache entries with their size and state')).action(
    (f: { cache: string; json?: boolean }) => {
      const entries = listCache(resolve(f.cache));
      const total = entries.reduce((n, e) => n + e.bytes, 0);
      if (f.json) {
        process.stdout.write(`${JSON.stringify({ dir: resolve(f.cache), bytes: total, entries })}\n`);
        return;
      }
      for (const e of entries) {
        process.stdout.write(`${e.key}  ${e.kind}  ${mib(e.bytes)}  ${e.modified}  ${state(e)}\n`);
      }
      process.stdout.write(`${entries.length} entries, ${mib(total)} in ${resolve(f.cache)}\n`);
    },
  );
  dirOption(
    cache
      .command('rm')
      .description('remove the entries of the given keys (refused while a process holds one)')
      .argument('<key...>', 'cache keys, as `lethe cache ls` prints them')
      .option('--dry-run', 'only say what would be removed'),
  ).action((keys: string[], f: { cache: string; json?: boolean; dryRun?: boolean }) => {
    report(removeCacheEntries(resolve(f.cache), keys, f.dryRun), Boolean(f.dryRun), Boolean(f.json));
  });
  dirOption(
    cache
      .command('prune')
      .description('remove stale .partial builds and locks left by dead processes')
      .option('--all', 'also remove finished entries (everything not in use)')
      .option('--dry-run', 'only say what would be removed'),
  ).action((f: { cache: string; json?: boolean; dryRun?: boolean; all?: boolean }) => {
    report(
      pruneCache(resolve(f.cache), { all: f.all, dryRun: f.dryRun }),
      Boolean(f.dryRun),
      Boolean(f.json),
    );
  });
}
