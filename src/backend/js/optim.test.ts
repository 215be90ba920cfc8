/** Tests for the AdamW step against hand-computed PyTorch-semantics values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, f32 } from '../../../test/helpers/kernel-checks.ts';
import { adamw } from './optim.ts';

test('adamw: two hand-computed steps (rtol 1e-6)', () => {
  const p = f32([1, -2]);
  const m = f32([0, 0]);
  const v = f32([0, 0]);
  const [lr, b1, b2, eps, wd] = [0.1, 0.9, 0.999, 1e-8, 0.01];
  adamw(p, f32([0.5, 0]), m, v, lr, b1, b2, eps, wd, 1);
  // Element 0: p = 1 − 0.1·0.01 = 0.999; m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
  // p = 0.999 − 0.1·0.5 / (0.5 + 1e-8) = 0.899000002.
  // Element 1 (g = 0): only the decay acts: −2 · 0.999 = −1.998.
  const tol = { atol: 0, rtol: 1e-6 };
  assertClose(p, [0.899000002, -1.998], tol, 'p step 1');
  assertClose(m, [0.05, 0], tol, 'm step 1');
  assertClose(v, [0.00025, 0], tol, 'v step 1');

  adamw(p, f32([-1, 0]), m, v, lr, b1, b2, eps, wd, 2);
  // Element 0: p = 0.899000002·0.999; m = 0.045 − 0.1 = −0.055; v = 0.999·0.00025 + 0.001 = 0.00124975;
  // m̂ = −0.055 / (1 − 0.81); v̂ = 0.00124975 / (1 − 0.998001).
  const mHat = -0.055 / 0.19;
  const vHat = 0.00124975 / 0.001999;
  const p0 = 0.899000002 * 0.999 - (lr * mHat) / (Math.sqrt(vHat) + eps);
  assertClose(p, [p0, -1.998 * 0.999], tol, 'p step 2');
  assertClose(m, [-0.055, 0], tol, 'm step 2');
  assertClose(v, [0.00124975, 0], tol, 'v step 2');
  assert.ok(Math.abs(p0 - 0.93471) < 1e-5); // the hand-computed value, to 5 digits
});

test('adamw: empty arrays; NaN gradient poisons only its parameter', () => {
  const e = new Float32Array(0);
  adamw(e, e, e, e, 0.1, 0.9, 0.999, 1e-8, 0, 1);
  const p = f32([1, 1]);
  adamw(p, f32([Number.NaN, 1]), new Float32Array(2), new Float32Array(2), 0.1, 0.9, 0.999, 1e-8, 0, 1);
  assert.ok(Number.isNaN(p[0]));
  assertClose(p.subarray(1), [0.9], { atol: 0, rtol: 1e-6 }, 'p[1]');
});
