/** Autograd behaviour: accumulation, noGrad, detach, graph release, valueAndGrad, errors, memory. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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
    return process.memoryUsage().arrayBuffers;
  };
  for (let i = 0; i < 200; i++) step();
  const before = measure();
  for (let i = 0; i < 3000; i++) step();
  const after = measure();
  // One step allocates ~50 KB of buffers; a leak over 3000 steps would show as >100 MB.
  assert.ok(after - before < 2e6, `array buffers grew by ${after - before} bytes`);
});
