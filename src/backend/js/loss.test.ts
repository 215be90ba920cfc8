/** Tests for the fused cross-entropy and its backward pass. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertClose,
  dot,
  f32,
  i32,
  numericGrad,
  randF32,
  rng,
} from '../../../test/helpers/kernel-checks.ts';
import { crossEntropy, crossEntropyBackward } from './loss.ts';

const IGNORE = -100;

test('crossEntropy: hand values, ignored row keeps its lse, huge logits (rtol 1e-6)', () => {
  const logits = f32([1, 2, 3, 1, 2, 3, 0, 0, 0, 1000, 1001, 1002]);
  const losses = new Float32Array(4).fill(9);
  const lse = new Float32Array(4);
  crossEntropy(logits, i32([2, IGNORE, 0, 0]), losses, lse, 4, 3, IGNORE);
  const tol = { atol: 1e-6, rtol: 1e-6 };
  assertClose(losses, [0.40760596444438, 0, 1.0986122886681098, 2.40760596444438], tol, 'losses');
  assertClose(lse, [3.40760596444438, 3.40760596444438, 1.0986122886681098, 1002.4076059644444], tol, 'lse');
});

test('crossEntropyBackward vs central differences; ignored rows get 0 (h = 1e-2; atol 1e-3, rtol 1e-3)', () => {
  const rand = rng(5);
  const rows = 4;
  const cols = 6;
  const logits = randF32(rand, rows * cols, -3, 3);
  const targets = i32([1, IGNORE, 5, 0]);
  const dLoss = randF32(rand, rows);
  const losses = new Float32Array(rows);
  const lse = new Float32Array(rows);
  const loss = () => {
    crossEntropy(logits, targets, losses, lse, rows, cols, IGNORE);
    return dot(dLoss, losses);
  };
  loss();
  const dLogits = new Float32Array(rows * cols).fill(7);
  crossEntropyBackward(logits, targets, lse, dLoss, dLogits, rows, cols, IGNORE);
  assertClose(dLogits, numericGrad(logits, loss), { atol: 1e-3, rtol: 1e-3 }, 'dLogits');
  assert.deepEqual([...dLogits.subarray(cols, 2 * cols)], new Array(cols).fill(0));
});

test('crossEntropy: 0 rows; NaN logits give NaN loss; bad target throws', () => {
  const e = new Float32Array(0);
  crossEntropy(e, i32([]), e, e, 0, 5, IGNORE);
  crossEntropyBackward(e, i32([]), e, e, e, 0, 5, IGNORE);
  const losses = new Float32Array(2);
  const lse = new Float32Array(2);
  crossEntropy(f32([Number.NaN, 1, 0, 1]), i32([1, 1]), losses, lse, 2, 2, IGNORE);
  assert.ok(Number.isNaN(losses[0]) && Number.isNaN(lse[0]));
  assert.ok(Number.isFinite(losses[1]));
  assert.throws(() => crossEntropy(f32([0, 1]), i32([2]), losses, lse, 1, 2, IGNORE), /target out of range/);
});
