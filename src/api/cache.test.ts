/**
 * The model cache's upkeep on a hand-made cache: a finished entry, a .partial build left by a
 * killed process (no lock), one being built right now (its lock holds this live pid), and a lock
 * of a dead process. ls reports exact sizes and states; prune removes exactly the stale ones
 * (nothing with --dry-run); rm refuses an entry in use and an unknown key; prune --all keeps only
 * what is in use. `lethe cache ls --json` prints the same listing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { listCache, pruneCache, removeCacheEntries } from './cache.ts';

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function makeCache(): { dir: string; models: string; deadLockBytes: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lethe-cache-'));
  const models = join(dir, 'models');
  mkdirSync(join(models, 'aaa', 'target'), { recursive: true });
  writeFileSync(join(models, 'aaa', 'target', 'model.safetensors'), Buffer.alloc(1000));
  writeFileSync(join(models, 'aaa', 'prepare.json'), '{}'); // 2 bytes
  mkdirSync(join(models, 'bbb.partial'));
  writeFileSync(join(models, 'bbb.partial', 'half'), Buffer.alloc(300));
  mkdirSync(join(models, 'ccc.partial'));
  writeFileSync(join(models, 'ccc.partial', 'half'), Buffer.alloc(50));
  writeFileSync(join(models, 'ccc.lock'), String(process.pid));
  const dead = String(deadPid());
  writeFileSync(join(models, 'ddd.lock'), dead);
  return { dir, models, deadLockBytes: dead.length };
}

test('ls: kinds, exact sizes, who holds what, and what is stale', () => {
  const { dir, deadLockBytes } = makeCache();
  const rows = listCache(dir).map((e) => [e.key, e.kind, e.bytes, e.lockedBy, e.stale]);
  assert.deepEqual(rows, [
    ['aaa', 'models', 1002, null, false],
    ['bbb', 'partial', 300, null, true],
    ['ccc', 'lock', String(process.pid).length, process.pid, false],
    ['ccc', 'partial', 50, process.pid, false],
    ['ddd', 'lock', deadLockBytes, null, true],
  ]);
  assert.deepEqual(listCache(join(dir, 'nowhere')), []);
});

test('prune removes stale partial builds and dead locks only; --dry-run removes nothing', () => {
  const { dir, models } = makeCache();
  const dry = pruneCache(dir, { dryRun: true });
  assert.deepEqual(
    dry.removed.map((e) => e.key),
    ['bbb', 'ddd'],
  );
  assert.ok(existsSync(join(models, 'bbb.partial')) && existsSync(join(models, 'ddd.lock')));
  const done = pruneCache(dir);
  assert.equal(done.bytes, dry.bytes);
  assert.ok(!existsSync(join(models, 'bbb.partial')) && !existsSync(join(models, 'ddd.lock')));
  assert.ok(existsSync(join(models, 'aaa')) && existsSync(join(models, 'ccc.partial')));
});

test('rm refuses what a live process holds and unknown keys; prune --all keeps what is in use', () => {
  const { dir, models } = makeCache();
  assert.throws(
    () => removeCacheEntries(dir, ['ccc']),
    (e) => e instanceof ConfigError && /in use by process/.test(e.message),
  );
  assert.throws(
    () => removeCacheEntries(dir, ['aaa', 'zzz']),
    (e) => e instanceof ConfigError && /no cache entry "zzz"/.test(e.message),
  );
  assert.ok(existsSync(join(models, 'aaa')), 'nothing removed when one key is bad');
  assert.equal(removeCacheEntries(dir, ['aaa']).bytes, 1002);
  assert.ok(!existsSync(join(models, 'aaa')));
  pruneCache(dir, { all: true });
  assert.deepEqual(
    listCache(dir).map((e) => `${e.key}.${e.kind}`),
    ['ccc.lock', 'ccc.partial'],
  );
});

test('lethe cache ls --json lists the same entries', () => {
  const { dir } = makeCache();
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'lethe.js');
  const r = spawnSync(process.execPath, [bin, 'cache', 'ls', '--cache', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { bytes: number; entries: { key: string; stale: boolean }[] };
  assert.deepEqual(
    out.entries.map((e) => [e.key, e.stale]),
    listCache(dir).map((e) => [e.key, e.stale]),
  );
  assert.equal(
    out.bytes,
    listCache(dir).reduce((n, e) => n + e.bytes, 0),
  );
});
