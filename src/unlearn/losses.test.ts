/** Loss terms against hand-computed values (tolerance 1e-5 unless stated). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { neg, noGrad, Tensor, valueAndGrad } from '../tensor/index.ts';
import { logSigmoid, npoLoss, simnpoLoss } from './losses.ts';

const close = (a: number, b: number, tol = 1e-5) =>
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);
const sig = (x: number) => 1 / (1 + Math.exp(-x));

test('logSigmoid: values, and gradient 1 − σ(x) including x = 0 and large |x|', () => {
  const x = new Tensor(Float32Array.of(-100, -3, 0, 2, 50), [5]);
  const y = noGrad(() => logSigmoid(x)).f32;
  [-3, 0, 2, 50].forEach((v, i) => close(y[i + 1], Math.log(sig(v))));
  close(y[0], -80, 1e-3); // floored where σ underflows
  const { grads } = valueAndGrad(() => logSigmoid(x).sum(), [x]);
  [0, 1 - sig(-3), 0.5, 1 - sig(2), 0].forEach((g, i) => close(grads[0].f32[i], g));
});

test('NPO on summed log-probs: value −(2/β)·mean log σ(−β·(logp − logp_ref)) and its sign', () => {
  const beta = 0.1;
  const logp = new Tensor(Float32Array.of(-12, -30), [2]); // summed over the answer, not per-token
  const ref = Float32Array.of(-10, -30);
  const value = noGrad(() => npoLoss(logp, ref, beta)).item();
  const expected = (-2 / beta) * 0.5 * (Math.log(sig(-beta * -2)) + Math.log(sig(0)));
  close(value, expected);
  // Minimising NPO pushes log p down (positive gradient w.r.t. log p).
  const { grads } = valueAndGrad(() => npoLoss(logp, ref, beta), [logp]);
  assert.ok(grads[0].f32.every((g) => g > 0));
});

test('NPO → GA as β → 0: gradient w.r.t. log p equals that of −mean(−log p) = mean(log p)', () => {
  const logp = new Tensor(Float32Array.of(-5, -2, -9), [3]);
  const ref = Float32Array.of(-4, -3, -9);
  const { grads } = valueAndGrad(() => npoLoss(logp, ref, 1e-4), [logp]);
  // d/dlogp of GA's loss mean(log p) = 1/n for every example.
  grads[0].f32.forEach((g) => close(g, 1 / 3, 1e-3));
});

test('SimNPO: length-normalised, reference-free, with margin γ', () => {
  const logp = new Tensor(Float32Array.of(-6, -20), [2]);
  const counts = Float32Array.of(3, 10);
  const beta = 2.5;
  const gamma = 0.5;
  const value = noGrad(() => simnpoLoss(logp, counts, beta, gamma)).item();
  const term = (lp: number, n: number) => Math.log(sig(-(beta / n) * lp - gamma));
  close(value, (-2 / beta) * 0.5 * (term(-6, 3) + term(-20, 10)));
  const neg1 = noGrad(() =>
    simnpoLoss(neg(new Tensor(Float32Array.of(6), [1])), Float32Array.of(3), beta, 0),
  ).item();
  close(neg1, (-2 / beta) * Math.log(sig((beta / 3) * 6)));
});
