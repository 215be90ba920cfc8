/**
 * clipGradNorm: the global L2 norm, PyTorch's scaling maxNorm / (norm + 1e-6), no-op below the
 * limit, and non-finite norms. Tolerance: the norm of (3, 4, 12) is exact (13); scaled gradients
 * within 1e-6 relative of g·6.5/(13 + 1e-6); no-op and NaN cases are compared exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, param, setGrad } from '../../../test/helpers/nn-params.ts';
import { ConfigError } from '../../errors.ts';
import { clipGradNorm } from './clip.ts';

function setup(gb: number[] = [12]) {
  const a = param([0, 0], [1, 2]);
  const b = param([0]);
  const none = param([5]); // no gradient: ignored
  setGrad(a, [3, 4]);
  setGrad(b, gb);
  return { a, b, none, all: [a, b, none] };
}

test('clipGradNorm: returns the pre-clip global norm and scales by maxNorm / (norm + 1e-6)', () => {
  const { a, b, all } = setup();
  const norm = clipGradNorm(all, 6.5);
  assert.equal(norm, 13);
  const coef = 6.5 / (13 + 1e-6);
  assertClose(a.grad!.f32, [3 * coef, 4 * coef], 1e-6 * 4);
  assertClose(b.grad!.f32, [12 * coef], 1e-6 * 12);
  // The clipped norm is (just under) maxNorm.
  assert.ok(Math.abs(clipGradNorm(all, 100) - 6.5) < 1e-5);
});

test('clipGradNorm: no-op below the limit', () => {
  const { a, b, all } = setup();
  assert.equal(clipGradNorm(all, 20), 13);
  assert.deepEqual([...a.grad!.f32, ...b.grad!.f32], [3, 4, 12]);
});

test('clipGradNorm: a non-finite norm is returned and gradients are left untouched', () => {
  const nan = setup([Number.NaN]);
  assert.ok(Number.isNaN(clipGradNorm(nan.all, 1)));
  assert.deepEqual([...nan.a.grad!.f32], [3, 4]);
  const inf = setup([Number.POSITIVE_INFINITY]);
  assert.equal(clipGradNorm(inf.all, 1), Number.POSITIVE_INFINITY);
  assert.deepEqual([...inf.a.grad!.f32], [3, 4]);
});

test('clipGradNorm: no gradients gives 0; maxNorm must be positive', () => {
  assert.equal(clipGradNorm([param([1])], 1), 0);
  assert.throws(() => clipGradNorm([], 0), ConfigError);
  assert.throws(() => clipGradNorm([], Number.NaN), ConfigError);
});
