/**
 * The addon's buffer pool (exact checks): sizes, zero-filling of reused dirty blocks, reuse only
 * after V8 has freed the previous holder, the cache limit and age, V8's external-memory
 * accounting, and argument checking. V8 may finish freeing the ArrayBuffers a full GC found dead
 * on a background thread, but always before the next GC starts: collect() runs two, after which
 * everything that was unreferenced before it is back in the pool.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Backend, PoolStats } from '../backend.ts';
import { loadNativeBackend } from './native-backend.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const collect = (): void => {
  gc();
  gc();
};
const native = loadNativeBackend() as Backend & { poolLimit(bytes: number): number };
const stats = (): PoolStats => native.poolStats();

test('empty and zeros: lengths, a Float32Array each, 64-byte aligned blocks', () => {
  for (const n of [0, 1, 1000, 4096, 100_000, 1 << 20]) {
    const e = native.empty(n);
    const z = native.zeros(n);
    assert.ok(e instanceof Float32Array && z instanceof Float32Array);
    assert.equal(e.length, n);
    assert.equal(z.length, n);
    assert.ok(z.every((v) => v === 0 && !Object.is(v, -0)));
    e.fill(3); // writable end to end
    assert.equal(e[n - 1] ?? 3, 3);
  }
});

test('a block comes back only when V8 frees its array, and zeros() clears a dirty one', () => {
  const n = 300_000; // 1.2 MB: a mapped block
  collect();
  let a: Float32Array | null = native.empty(n);
  a.fill(-7);
  const s0 = stats();
  assert.ok(s0.live >= n * 4);
  // Referenced: the same size is a new block, not a's.
  const b = native.empty(n);
  b.fill(1);
  assert.equal(a[n - 1], -7);
  assert.equal(stats().misses, s0.misses + 1);
  a = null;
  collect();
  const s1 = stats();
  assert.equal(s1.live, s0.live, 'a returned, b live');
  assert.ok(s1.cached >= s0.cached + n * 4);
  const z = native.zeros(n);
  const s2 = stats();
  assert.equal(s2.hits, s1.hits + 1, `reused: ${JSON.stringify([s0, s1, s2])}`);
  assert.ok(z.every((v) => v === 0));
  assert.equal(b[0], 1);
});

test('V8 counts pooled arrays as external memory', () => {
  collect();
  const before = process.memoryUsage().external;
  const held = [native.empty(1 << 22), native.empty(1 << 22)]; // 2 × 16 MB
  const during = process.memoryUsage().external;
  assert.ok(during - before >= 2 * (1 << 24), `external grew by ${during - before}`);
  held.length = 0;
  collect();
  assert.ok(process.memoryUsage().external - before < 1 << 20);
});

test('the cache limit frees cached blocks and bounds what is kept', () => {
  collect();
  const prev = native.poolLimit(0);
  try {
    assert.equal(stats().cached, 0);
    assert.equal(stats().limit, 0);
    let a: Float32Array | null = native.empty(100_000);
    a[0] = 1;
    a = null;
    collect();
    assert.equal(stats().cached, 0, 'nothing kept at limit 0');
    native.poolLimit(1 << 20);
    const held = Array.from({ length: 4 }, () => native.empty(100_000)); // 4 × 400 KB
    held.length = 0;
    collect();
    assert.ok(stats().cached <= 1 << 20);
  } finally {
    native.poolLimit(prev);
  }
  assert.equal(stats().limit, prev);
});

test('a cached block unused for 8192 allocations is freed', () => {
  collect();
  let a: Float32Array | null = native.empty(123_457);
  a[0] = 1;
  a = null;
  collect();
  const s0 = stats();
  assert.ok(s0.cached >= 123_457 * 4);
  for (let i = 0; i < 8300; i++) native.empty(5000)[0] = i;
  collect();
  assert.ok(stats().evictions > s0.evictions, 'stale blocks freed');
});

test('argument checking', () => {
  assert.throws(() => native.empty(-1), RangeError);
  assert.throws(() => native.zeros(1.5), RangeError);
  assert.throws(() => native.empty(Number.NaN), RangeError);
  assert.throws(() => (native.empty as (n: unknown) => Float32Array)('8'), RangeError);
  assert.throws(() => native.poolLimit(-1), RangeError);
});
