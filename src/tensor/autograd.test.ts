/** Autograd behaviour: accumulation, noGrad, detach, graph release, valueAndGrad, errors, memory. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { backend } from '../backend/index.ts';
import { LetheError, ShapeError } from '../errors.ts';
import * as T from './index.ts';

test('gradients accumulate across backward calls until zeroGrad', () => {
  const x = T.tensor([1, 2, 3], undefined, { requiresGrad: true });
  T.sum(T.mul(x, x)).backward();
  T.sum(T.mul(x, x)).backward();
  assert.deepEqual(x.grad?.toArray(), [4, 8, 12]);
  x.zeroGrad();
  T.sum(x).backward();
  assert.deepEqual(x.grad?.toArray(), [1, 1, 1]);
});

test('a tensor used twice receives the sum of both paths', () => {
  const x = T.tensor([2], undefined, { requiresGrad: true });
  T.add(T.mul(x, 3), T.exp(x)).sum().backward();
  assert.ok(Math.abs(x.grad!.item() - (3 + Math.exp(2))) < 1e-5); // tolerance 1e-5 (float32)
});

test('noGrad records nothing; detach cuts the graph', () => {
  const x = T.tensor([1, 2], undefined, { requiresGrad: true });
  const y = T.noGrad(() => T.mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
  const z = T.mul(x, 2).detach();
  assert.equal(z.requiresGrad, false);
  assert.throws(() => T.sum(z).backward(), LetheError);
});

test('leaf gradients never alias each other (a + b gives both the same upstream gradient)', () => {
  const a = T.tensor([1, 2], undefined, { requiresGrad: true });
  const b = T.tensor([3, 4], undefined, { requiresGrad: true });
  T.sum(T.add(a, b)).backward();
  a.grad!.f32[0] = 100;
  assert.equal(b.grad!.f32[0], 1);
});

test('the graph is released after backward; a second backward through it is a clear error', () => {
  const x = T.tensor([1, 2], undefined, { requiresGrad: true });
  const h = T.exp(x);
  const y = T.sum(h);
  y.backward();
  assert.deepEqual(h.node?.inputs, []);
  assert.throws(() => y.backward(), /already used/);
});

test('backward needs a scalar or an explicit gradient', () => {
  const x = T.tensor([1, 2], undefined, { requiresGrad: true });
  const y = T.mul(x, 3);
  assert.throws(() => y.backward(), ShapeError);
  y.backward(T.tensor([1, 10]));
  assert.deepEqual(x.grad?.toArray(), [3, 30]);
});

test('valueAndGrad returns gradients without touching .grad', () => {
  const w = T.tensor([1, -2], undefined, { requiresGrad: true });
  const unused = T.tensor([5]);
  w.grad = T.tensor([9, 9]);
  const { value, grads } = T.valueAndGrad(() => T.sum(T.mul(w, w)), [w, unused]);
  assert.equal(value.item(), 5);
  assert.deepEqual(grads[0].toArray(), [2, -4]);
  assert.deepEqual(grads[1].toArray(), [0]);
  assert.deepEqual(w.grad.toArray(), [9, 9]);
  assert.equal(unused.requiresGrad, false);
});

test('shape mistakes throw ShapeError naming the op and shapes', () => {
  const a = T.zeros([2, 3]);
  assert.throws(() => T.add(a, T.zeros([4])), /add: shapes \[2, 3\] and \[4\] do not broadcast/);
  assert.throws(() => T.matmul(a, T.zeros([2, 3])), /matmul: inner dimensions differ/);
  assert.throws(() => T.reshape(a, [4, -1]), /reshape: cannot reshape \[2, 3\]/);
  assert.throws(() => T.gather(T.zeros([3, 2]), T.tensor(Int32Array.of(3))), /index 3 .* out of range/);
  assert.throws(() => T.sum(a, 2), /axis 2 is out of range/);
  assert.throws(() => T.crossEntropy(a, T.tensor(Int32Array.of(0, 7))), /target 7/);
  assert.throws(() => T.exp(T.tensor(Int32Array.of(1))), ShapeError);
});

test('size-1 and empty dimensions, NaN propagation', () => {
  const e = T.zeros([0, 3], { requiresGrad: true });
  const s = T.sum(T.mul(e, 2));
  assert.equal(s.item(), 0);
  s.backward();
  assert.deepEqual(e.grad?.shape, [0, 3]);
  assert.deepEqual(T.sum(T.zeros([2, 0]), 1).toArray(), [0, 0]);
  assert.ok(Number.isNaN(T.mean(T.zeros([0])).item()));
  const n = T.tensor([1, Number.NaN, 3]);
  assert.ok(Number.isNaN(T.max(n).item()));
  assert.ok(Number.isNaN(T.sum(T.exp(n)).item()));
  assert.ok(Number.isNaN(T.maximum(n, 0).f32[1]));
  assert.ok(Number.isNaN(T.softmax(n).f32[0]));
});

test('reshape is a view: it shares storage', () => {
  const a = T.tensor([1, 2, 3, 4]);
  const v = T.reshape(a, [2, 2]);
  a.f32[3] = 40;
  assert.equal(v.f32[3], 40);
});

test('memory stays flat over thousands of training steps', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const rng = new T.Rng(0);
  const w1 = T.randn([16, 32], rng, 0.3, 0, { requiresGrad: true });
  const w2 = T.randn([32, 4], rng, 0.3, 0, { requiresGrad: true });
  const x = T.randn([64, 16], rng);
  const targets = T.tensor(Int32Array.from({ length: 64 }, (_, i) => i % 4));
  const step = () => {
    const loss = T.crossEntropy(T.matmul(T.relu(T.matmul(x, w1)), w2), targets);
    loss.backward();
    T.noGrad(() => {
      for (const w of [w1, w2]) {
        const g = w.grad!.f32;
        for (let i = 0; i < g.length; i++) w.f32[i] -= 0.01 * g[i];
        w.zeroGrad();
      }
    });
  };
  const measure = () => {
    gc();
    gc(); // V8 may finish freeing the first GC's dead array buffers on a background thread
    return process.memoryUsage().arrayBuffers + backend.poolStats().live;
  };
  for (let i = 0; i < 200; i++) step();
  const before = measure();
  for (let i = 0; i < 3000; i++) step();
  const after = measure();
  // One step allocates ~50 KB of buffers; a leak over 3000 steps would show as >100 MB.
  assert.ok(after - before < 2e6, `array buffers grew by ${after - before} bytes`);
});

test('slices of one tensor: gradients summed into one buffer (contiguous and strided, small and pooled)', () => {
  // Exact: every expected element is a sum of at most four terms of small integers / 8.
  for (const [A, Bd, C] of [
    [3, 4, 5],
    [3, 64, 40],
  ]) {
    const n = A * Bd * C;
    const x = T.tensor(new Float32Array(n), [A, Bd, C], { requiresGrad: true });
    const w = (shape: number[], k: number) =>
      T.tensor(
        Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => ((i * k) % 7) / 8),
        shape,
      );
    const w0 = w([2, Bd, C], 1);
    const w1 = w([2, Bd, C], 2);
    const w2 = w([A, 2, C], 3);
    const w3 = w([A, Bd, C], 5);
    const loss = T.add(
      T.add(T.sum(T.mul(T.slice(x, 0, 0, 2), w0)), T.sum(T.mul(T.slice(x, 0, 1, 3), w1))),
      T.add(T.sum(T.mul(T.slice(x, 1, 1, 3), w2)), T.sum(T.mul(x, w3))),
    );
    loss.backward();
    const g = x.grad!.f32;
    for (let a = 0; a < A; a++)
      for (let b = 0; b < Bd; b++)
        for (let c = 0; c < C; c++) {
          let e = w3.f32[(a * Bd + b) * C + c];
          if (a < 2) e += w0.f32[(a * Bd + b) * C + c];
          if (a >= 1) e += w1.f32[((a - 1) * Bd + b) * C + c];
          if (b >= 1 && b < 3) e += w2.f32[(a * 2 + b - 1) * C + c];
          assert.equal(g[(a * Bd + b) * C + c], e, `at ${[a, b, c]}`);
        }
  }
});

test('a contiguous slice is a view; a strided one a copy', () => {
  const x = T.tensor(
    Float32Array.from({ length: 24 }, (_, i) => i),
    [1, 4, 6],
  );
  const v = T.slice(x, 1, 1, 3);
  assert.equal(v.f32.buffer, x.f32.buffer);
  assert.deepEqual([...v.f32], [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
  const c = T.slice(x, 2, 1, 3);
  assert.notEqual(c.f32.buffer, x.f32.buffer);
  assert.deepEqual([...c.f32], [1, 2, 7, 8, 13, 14, 19, 20]);
});

test('leaf gradients never share a buffer, however the graph routes them', () => {
  // add() hands its output gradient to both inputs; later contributions must not leak across.
  const n = 5000; // pooled size
  const mk = () =>
    T.tensor(
      Float32Array.from({ length: n }, (_, i) => (i % 5) / 4),
      [n],
      { requiresGrad: true },
    );
  const a = mk();
  const b = mk();
  const c = mk();
  const loss = T.add(T.add(T.sum(T.add(a, b)), T.sum(T.mul(a, c))), T.sum(T.mul(a, T.affine(c, 2))));
  loss.backward();
  assert.notEqual(a.grad!.f32.buffer, b.grad!.f32.buffer);
  for (let i = 0; i < n; i++) {
    assert.equal(b.grad!.f32[i], 1);
    assert.equal(a.grad!.f32[i], 1 + 3 * c.f32[i]);
  }
  a.grad!.f32.fill(0);
  assert.equal(b.grad!.f32[0], 1);
});

test('memory stays flat over training steps with pooled (>16 KB) buffers', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const rng = new T.Rng(1);
  const w1 = T.randn([64, 128], rng, 0.1, 0, { requiresGrad: true });
  const w2 = T.randn([128, 16], rng, 0.1, 0, { requiresGrad: true });
  const x = T.randn([256, 64], rng);
  const targets = T.tensor(Int32Array.from({ length: 256 }, (_, i) => i % 16));
  const step = () => {
    const h = T.relu(T.matmul(x, w1)); // 128 KB
    const loss = T.crossEntropy(T.matmul(T.slice(h, 1, 0, 128), w2), targets);
    loss.backward();
    T.noGrad(() => {
      for (const w of [w1, w2]) {
        const g = w.grad!.f32;
        for (let i = 0; i < g.length; i++) w.f32[i] -= 0.01 * g[i];
        w.zeroGrad();
      }
    });
  };
  // Bytes held by arrays: V8's own plus the pool's handed-out blocks (js backend: 0).
  const measure = () => {
    gc();
    gc(); // the second GC completes the first one's freeing of array buffers
    const pool = backend.poolStats();
    return { held: process.memoryUsage().arrayBuffers + pool.live, cached: pool.cached };
  };
  for (let i = 0; i < 100; i++) step();
  const before = measure();
  for (let i = 0; i < 1000; i++) step();
  const after = measure();
  // One step allocates ~1 MB of buffers; a leak over 1000 steps would show as ~1 GB. The cache
  // holds what was garbage between two collections (V8 collects after ~64 MB of external
  // allocation), so it may settle a little higher, but not by a step's worth per step.
  assert.ok(after.held - before.held < 4e6, `arrays held grew by ${after.held - before.held} bytes`);
  assert.ok(after.cached - before.cached < 1e8, `pool cache grew by ${after.cached - before.cached} bytes`);
});

test('a table gathered twice and used densely: row gradients summed into one buffer', () => {
  // Exact: each expected element sums at most five multiples of 1/8.
  for (const [V, C] of [
    [6, 4],
    [50, 100],
  ]) {
    const table = T.tensor(new Float32Array(V * C), [V, C], { requiresGrad: true });
    const ids1 = T.tensor(Int32Array.from([1, 3, 1, 0]), [2, 2]);
    const ids2 = T.tensor(Int32Array.from([3, 5, 5]), [3]);
    const w = (shape: number[], k: number) =>
      T.tensor(
        Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => ((i * k) % 7) / 8),
        shape,
      );
    const w1 = w([2, 2, C], 1);
    const w2 = w([3, C], 2);
    const w3 = w([V, C], 3);
    const loss = T.add(
      T.add(T.sum(T.mul(T.gather(table, ids1), w1)), T.sum(T.mul(table, w3))),
      T.sum(T.mul(T.gather(table, ids2), w2)),
    );
    loss.backward();
    const expected = Float32Array.from(w3.f32);
    ids1.i32.forEach((r, i) => {
      for (let c = 0; c < C; c++) expected[r * C + c] += w1.f32[i * C + c];
    });
    ids2.i32.forEach((r, i) => {
      for (let c = 0; c < C; c++) expected[r * C + c] += w2.f32[i * C + c];
    });
    assert.deepEqual(table.grad!.f32, expected);
  }
});

test('the slice and gather fast paths of the tape match the table entries exactly', () => {
  const rng = new T.Rng(5);
  const x = T.randn([3, 5, 4], rng, 1, 0, { requiresGrad: true });
  for (const [axis, start, end] of [
    [0, 1, 3],
    [1, 1, 4],
    [2, 0, 1],
  ]) {
    const y = T.slice(x, axis, start, end);
    const dy = T.randn(y.shape, rng);
    const ref = T.gradients.slice(dy, y.node as never, y)[0]!;
    x.zeroGrad();
    y.backward(dy);
    assert.deepEqual(x.grad!.f32, ref.f32, `slice axis ${axis}`);
  }
  const table = T.randn([6, 3], rng, 1, 0, { requiresGrad: true });
  const ids = T.tensor(Int32Array.from([5, 0, 5, 2]), [2, 2]);
  const y = T.gather(table, ids);
  const dy = T.randn(y.shape, rng);
  const ref = T.gradients.gather(dy, y.node as never, y)[0]!;
  y.backward(dy);
  assert.deepEqual(table.grad!.f32, ref.f32);
});
