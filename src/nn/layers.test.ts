/**
 * Layers against manual loops in double precision: Linear forward and backward (input, weight,
 * bias gradients) for 3-D, 2-D and 1-D inputs; Embedding lookup and its gradient; LayerNorm and
 * RMSNorm forward; seeded initialisation. Tolerance: 1e-5 absolute for values of magnitude <= ~5
 * (float32 GEMM and norm kernels, any summation order); exact for lookups and initial values.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose } from '../../test/helpers/nn-params.ts';
import { mul, Rng, sum, Tensor, tensor } from '../tensor/index.ts';
import { Embedding, LayerNorm, Linear, RMSNorm } from './layers.ts';

const TOL = 1e-5;

function values(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Math.fround(rng.uniform() * 4 - 2));
}

test('Linear: forward and backward match a manual x·Wᵀ + b', () => {
  const [B, T, IN, OUT] = [2, 3, 4, 5];
  const lin = new Linear(IN, OUT, { rng: new Rng(3), std: 0.5 });
  lin.bias!.f32.set(values(OUT, 4));
  const W = [...lin.weight.f32];
  const b = [...lin.bias!.f32];
  const xv = values(B * T * IN, 5);
  const rv = values(B * T * OUT, 6); // dL/dy for L = Σ y ⊙ R
  const x = new Tensor(Float32Array.from(xv), [B, T, IN], true);
  const y = lin.forward(x); // (B, T, OUT)
  assert.deepEqual(y.shape, [B, T, OUT]);
  const rows = B * T;
  const yRef: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < OUT; o++) {
      let s = b[o];
      for (let i = 0; i < IN; i++) s += xv[r * IN + i] * W[o * IN + i];
      yRef.push(s);
    }
  }
  assertClose(y.f32, yRef, TOL, 'y');

  sum(mul(y, new Tensor(Float32Array.from(rv), [B, T, OUT]))).backward();
  const dW = new Array(OUT * IN).fill(0);
  const db = new Array(OUT).fill(0);
  const dx = new Array(rows * IN).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < OUT; o++) {
      const g = rv[r * OUT + o];
      db[o] += g;
      for (let i = 0; i < IN; i++) {
        dW[o * IN + i] += g * xv[r * IN + i];
        dx[r * IN + i] += g * W[o * IN + i];
      }
    }
  }
  assertClose(lin.weight.grad!.f32, dW, TOL, 'dW');
  assertClose(lin.bias!.grad!.f32, db, TOL, 'db');
  assertClose(x.grad!.f32, dx, TOL, 'dx');
  assert.deepEqual(lin.weight.grad!.shape, [OUT, IN]);
});

test('Linear: 1-D input, no bias, and input-size checks', () => {
  const lin = new Linear(2, 3, { rng: null, bias: false });
  lin.weight.f32.set([1, 2, 3, 4, 5, 6]); // (3, 2)
  const y = lin.forward(tensor([1, -1]));
  assert.deepEqual(y.shape, [3]);
  assert.deepEqual([...y.f32], [-1, -1, -1]);
  assert.deepEqual(
    lin.namedParameters().map(([n]) => n),
    ['weight'],
  );
  assert.throws(() => lin.forward(tensor([[1, 2, 3]])), /does not end in 2 features/);
});

test('Linear/Embedding: seeded normal(0, 0.02) initialisation, zero bias, rng null gives zeros', () => {
  const a = new Linear(64, 64, { rng: new Rng(7) });
  const b = new Linear(64, 64, { rng: new Rng(7) });
  assert.deepEqual(a.weight.f32, b.weight.f32);
  assert.ok(a.bias!.f32.every((v) => v === 0));
  const w = a.weight.f32;
  const mean = w.reduce((s, v) => s + v, 0) / w.length;
  const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(mean) < 0.002 && Math.abs(std - 0.02) < 0.002, `mean ${mean}, std ${std}`);
  assert.ok(new Embedding(10, 4, { rng: null }).weight.f32.every((v) => v === 0));
  assert.notDeepEqual(new Embedding(10, 4, { rng: new Rng(1) }).weight.f32, new Float32Array(40));
});

test('Embedding: rows by id, gradient summed per id', () => {
  const emb = new Embedding(4, 2, { rng: null });
  emb.weight.f32.set([0, 1, 10, 11, 20, 21, 30, 31]);
  const ids = tensor([[3, 1, 3]], undefined, { dtype: 'int32' });
  const out = emb.forward(ids); // (1, 3, 2)
  assert.deepEqual(out.shape, [1, 3, 2]);
  assert.deepEqual([...out.f32], [30, 31, 10, 11, 30, 31]);
  sum(out).backward();
  assert.deepEqual([...emb.weight.grad!.f32], [0, 0, 1, 1, 0, 0, 2, 2]);
});

test('LayerNorm and RMSNorm: forward matches the formulas', () => {
  const C = 4;
  const xv = values(3 * C, 9);
  const x = new Tensor(Float32Array.from(xv), [3, C]);
  const ln = new LayerNorm(C);
  ln.weight.f32.set([1, 2, 0.5, -1]);
  ln.bias!.f32.set([0, 0.1, 0.2, 0.3]);
  const rms = new RMSNorm(C, { eps: 1e-5 });
  rms.weight.f32.set([2, 1, 1, 0.5]);
  const lnRef: number[] = [];
  const rmsRef: number[] = [];
  for (let r = 0; r < 3; r++) {
    const row = xv.slice(r * C, r * C + C);
    const mu = row.reduce((s, v) => s + v, 0) / C;
    const vr = row.reduce((s, v) => s + (v - mu) ** 2, 0) / C;
    const ms = row.reduce((s, v) => s + v * v, 0) / C;
    row.forEach((v, i) => {
      lnRef.push(((v - mu) / Math.sqrt(vr + 1e-5)) * ln.weight.f32[i] + ln.bias!.f32[i]);
      rmsRef.push((v / Math.sqrt(ms + 1e-5)) * rms.weight.f32[i]);
    });
  }
  assertClose(ln.forward(x).f32, lnRef, TOL, 'layerNorm');
  assertClose(rms.forward(x).f32, rmsRef, TOL, 'rmsNorm');
  assert.deepEqual(
    new LayerNorm(3, { bias: false }).namedParameters().map(([n]) => n),
    ['weight'],
  );
  assert.equal(new LayerNorm(3).eps, 1e-5);
  assert.equal(new RMSNorm(3).eps, 1e-6);
});
