/** Tests for layerNorm / rmsNorm and their backward passes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, dot, f32, numericGrad, randF32, rng } from '../../../test/helpers/kernel-checks.ts';
import { layerNorm, layerNormBackward, rmsNorm, rmsNormBackward } from './norm.ts';

const tol6 = { atol: 1e-6, rtol: 1e-6 };

test('layerNorm: hand-computed row, with and without bias (atol/rtol 1e-6)', () => {
  const x = f32([1, 2, 3, 4]);
  const w = f32([1, 1, 2, 0.5]);
  const b = f32([0, 1, 0, -1]);
  const out = new Float32Array(4);
  const mean = new Float32Array(1);
  const rstd = new Float32Array(1);
  layerNorm(x, w, b, out, mean, rstd, 1, 4, 0);
  assertClose(
    out,
    [-1.3416407864998738, 0.5527864045000421, 0.8944271909999159, -0.3291796067500631],
    tol6,
    'out',
  );
  assertClose(mean, [2.5], tol6, 'mean');
  assertClose(rstd, [0.894427190999916], tol6, 'rstd');
  layerNorm(x, w, null, out, mean, rstd, 1, 4, 0);
  assertClose(
    out,
    [-1.3416407864998738, -0.4472135954999579, 0.8944271909999159, 0.6708203932499369],
    tol6,
    'no bias',
  );
  // A constant row: var = 0, so rstd = 1/sqrt(eps) and out = b.
  layerNorm(f32([3, 3, 3, 3]), w, b, out, mean, rstd, 1, 4, 1e-4);
  assertClose(out, [0, 1, 0, -1], tol6, 'constant row');
  assertClose(rstd, [100], { atol: 0, rtol: 1e-6 }, 'constant rstd');
});

test('rmsNorm: hand-computed row (atol/rtol 1e-6)', () => {
  const out = new Float32Array(4);
  const rstd = new Float32Array(1);
  rmsNorm(f32([1, 2, 3, 4]), f32([1, 1, 2, 0.5]), out, rstd, 1, 4, 0);
  assertClose(
    out,
    [0.3651483716701107, 0.7302967433402214, 2.1908902300206643, 0.7302967433402214],
    tol6,
    'out',
  );
  assertClose(rstd, [0.3651483716701107], tol6, 'rstd');
});

test('layerNormBackward vs central differences for x, w, b (h = 1e-2; atol 2e-3, rtol 2e-3)', () => {
  const rand = rng(3);
  const rows = 3;
  const cols = 8;
  const x = randF32(rand, rows * cols, -2, 2);
  const w = randF32(rand, cols, 0.5, 1.5);
  const b = randF32(rand, cols);
  const dy = randF32(rand, rows * cols);
  const out = new Float32Array(rows * cols);
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  const loss = () => {
    layerNorm(x, w, b, out, mean, rstd, rows, cols, 1e-5);
    return dot(dy, out);
  };
  loss();
  const dx = new Float32Array(rows * cols);
  const dw = new Float32Array(cols).fill(99);
  const db = new Float32Array(cols).fill(99);
  layerNormBackward(dy, x, w, mean, rstd, dx, dw, db, rows, cols);
  const tol = { atol: 2e-3, rtol: 2e-3 };
  assertClose(dx, numericGrad(x, loss), tol, 'dx');
  assertClose(dw, numericGrad(w, loss), tol, 'dw');
  assertClose(db, numericGrad(b, loss), tol, 'db');
  // db = null is allowed and leaves dx, dw the same.
  const dx2 = new Float32Array(rows * cols);
  loss();
  layerNormBackward(dy, x, w, mean, rstd, dx2, dw, null, rows, cols);
  assert.deepEqual([...dx2], [...dx]);
});

test('rmsNormBackward vs central differences for x, w (h = 1e-2; atol 2e-3, rtol 2e-3)', () => {
  const rand = rng(4);
  const rows = 3;
  const cols = 8;
  const x = randF32(rand, rows * cols, -2, 2);
  const w = randF32(rand, cols, 0.5, 1.5);
  const dy = randF32(rand, rows * cols);
  const out = new Float32Array(rows * cols);
  const rstd = new Float32Array(rows);
  const loss = () => {
    rmsNorm(x, w, out, rstd, rows, cols, 1e-5);
    return dot(dy, out);
  };
  loss();
  const dx = new Float32Array(rows * cols);
  const dw = new Float32Array(cols).fill(99);
  rmsNormBackward(dy, x, w, rstd, dx, dw, rows, cols);
  const tol = { atol: 2e-3, rtol: 2e-3 };
  assertClose(dx, numericGrad(x, loss), tol, 'dx');
  assertClose(dw, numericGrad(w, loss), tol, 'dw');
});

test('norms: 0 rows write nothing but still zero dw/db (exact)', () => {
  const e = new Float32Array(0);
  const w = f32([1, 1]);
  layerNorm(e, w, w, e, e, e, 0, 2, 1e-5);
  rmsNorm(e, w, e, e, 0, 2, 1e-5);
  const dw = f32([5, 5]);
  const db = f32([5, 5]);
  layerNormBackward(e, e, w, e, e, e, dw, db, 0, 2);
  assert.deepEqual([...dw, ...db], [0, 0, 0, 0]);
  dw.fill(5);
  rmsNormBackward(e, e, w, e, e, dw, 0, 2);
  assert.deepEqual([...dw], [0, 0]);
});

test('norms: a NaN in a row poisons that row only', () => {
  const out = new Float32Array(4);
  const mean = new Float32Array(2);
  const rstd = new Float32Array(2);
  layerNorm(f32([Number.NaN, 1, 2, 3]), f32([1, 1]), null, out, mean, rstd, 2, 2, 1e-5);
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]));
  assert.ok(Number.isFinite(out[2]) && Number.isFinite(out[3]));
  rmsNorm(f32([1, 2, Number.NaN, 3]), f32([1, 1]), out, rstd, 2, 2, 1e-5);
  assert.ok(Number.isFinite(out[0]) && Number.isNaN(out[2]) && Number.isNaN(out[3]));
});
