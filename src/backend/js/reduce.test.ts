/** Tests for reduce, sumSquares, softmax/logSoftmax and their backward passes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, dot, f32, numericGrad, randF32, rng } from '../../../test/helpers/kernel-checks.ts';
import { reduceCode } from '../backend.ts';
import { logSoftmax, logSoftmaxBackward, reduce, softmax, softmaxBackward, sumSquares } from './reduce.ts';

const nan = Number.NaN;
const SUM = reduceCode('sum');
const MAX = reduceCode('max');

test('reduce: sum and max over the middle axis of (2, 3, 2) (exact)', () => {
  const x = f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const out = new Float32Array(4);
  reduce(SUM, x, out, 2, 3, 2);
  assert.deepEqual([...out], [6, 9, 24, 27]);
  reduce(MAX, x, out, 2, 3, 2);
  assert.deepEqual([...out], [4, 5, 10, 11]);
  // Whole-array reductions: outer = inner = 1.
  const one = new Float32Array(1);
  reduce(MAX, f32([-3, -1, -2]), one, 1, 3, 1);
  assert.equal(one[0], -1);
});

test('reduce: r = 0 gives 0 / −∞; outer = 0 writes nothing; NaN propagates through max (exact)', () => {
  const out = new Float32Array(2).fill(5);
  reduce(SUM, new Float32Array(0), out, 1, 0, 2);
  assert.deepEqual([...out], [0, 0]);
  reduce(MAX, new Float32Array(0), out, 2, 0, 1);
  assert.deepEqual([...out], [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  out.fill(5);
  reduce(SUM, new Float32Array(0), out, 0, 3, 2);
  assert.deepEqual([...out], [5, 5]);
  reduce(MAX, f32([1, nan, 3, 0, 2, 1]), out, 1, 3, 2);
  assert.ok(Number.isNaN(out[1]));
  assert.equal(out[0], 3);
  reduce(MAX, f32([nan, 1, 2, 3]), out.subarray(0, 1), 1, 4, 1);
  assert.ok(Number.isNaN(out[0]));
});

test('sumSquares: double accumulation (relative 1e-9 over 2^20 terms; float32 would be off by ~1e-2)', () => {
  assert.equal(sumSquares(f32([1, 2, 3])), 14);
  assert.equal(sumSquares(new Float32Array(0)), 0);
  const n = 1 << 20;
  const x = new Float32Array(n).fill(0.1);
  const expected = n * Math.fround(0.1) ** 2;
  assert.ok(Math.abs(sumSquares(x) - expected) <= 1e-9 * expected);
});

test('softmax / logSoftmax: hand values, large logits, −∞ entries (rtol 1e-6)', () => {
  const tol = { atol: 1e-7, rtol: 1e-6 };
  const p = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219];
  const lp = [-2.40760596444438, -1.40760596444438, -0.40760596444438];
  const x = f32([1, 2, 3, 1000, 1001, 1002, 0, Number.NEGATIVE_INFINITY, Math.log(3)]);
  const out = new Float32Array(9);
  softmax(x, out, 3, 3);
  assertClose(out, [...p, ...p, 0.25, 0, 0.75], tol, 'softmax');
  logSoftmax(x, out, 3, 3);
  assertClose(out.subarray(0, 6), [...lp, ...lp], tol, 'logSoftmax');
  assert.equal(out[7], Number.NEGATIVE_INFINITY);
});

test('softmax / logSoftmax: a NaN poisons its row only; 0 rows write nothing', () => {
  const out = new Float32Array(4);
  softmax(f32([nan, 1, 1, 1]), out, 2, 2);
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]));
  assert.deepEqual([...out.subarray(2)], [0.5, 0.5]);
  logSoftmax(f32([1, nan, 0, 0]), out, 2, 2);
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]));
  softmax(new Float32Array(0), new Float32Array(0), 0, 5);
  logSoftmax(new Float32Array(0), new Float32Array(0), 0, 5);
  softmaxBackward(new Float32Array(0), new Float32Array(0), new Float32Array(0), 0, 5);
});

test('softmaxBackward / logSoftmaxBackward vs central differences (h = 1e-2; atol 1e-3, rtol 1e-3)', () => {
  const rand = rng(2);
  const rows = 3;
  const cols = 7;
  const x = randF32(rand, rows * cols, -3, 3);
  const dy = randF32(rand, rows * cols);
  const y = new Float32Array(rows * cols);
  const dx = new Float32Array(rows * cols);
  for (const [fwd, bwd, name] of [
    [softmax, softmaxBackward, 'softmax'],
    [logSoftmax, logSoftmaxBackward, 'logSoftmax'],
  ] as const) {
    fwd(x, y, rows, cols);
    bwd(y, dy, dx, rows, cols);
    const num = numericGrad(x, () => {
      fwd(x, y, rows, cols);
      return dot(dy, y);
    });
    assertClose(dx, num, { atol: 1e-3, rtol: 1e-3 }, name);
  }
});
