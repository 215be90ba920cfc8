/** Tests for unary, unaryBackward and affine. Tolerances are stated per test. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, dot, f32, numericGrad, randF32, rng } from '../../../test/helpers/kernel-checks.ts';
import { UNARY_OPS, type UnaryOp, unaryCode } from '../backend.ts';
import { affine, unary, unaryBackward } from './unary.ts';

function apply(op: UnaryOp, xs: number[]): Float32Array {
  const out = new Float32Array(xs.length);
  unary(unaryCode(op), f32(xs), out);
  return out;
}

test('unary: hand-computed values (float32 rounding of the exact value: rtol 1e-7, atol 1e-30)', () => {
  const tol = { atol: 1e-30, rtol: 1e-7 };
  const cases: [UnaryOp, number[], number[]][] = [
    ['neg', [2, -0.5], [-2, 0.5]],
    ['exp', [0, 1], [1, Math.E]],
    ['log', [1, Math.E], [0, 1]],
    ['sqrt', [4, 0.25], [2, 0.5]],
    ['tanh', [0.5, -20], [0.46211715726000974, -1]],
    ['relu', [-1, 2, 0], [0, 2, 0]],
    ['sigmoid', [0, 2, -1000, 1000], [0.5, 0.8807970779778823, 0, 1]],
    ['gelu_tanh', [1, -1, 0, -100], [0.8411919906082768, -0.15880800939172324, 0, 0]],
    ['gelu_erf', [1, -1, -10, 10], [0.8413447460685429, -0.15865525393145707, -7.619853024160528e-23, 10]],
    ['silu', [1, -2, -1000], [0.7310585786300049, -0.2384058440442351, 0]],
    ['abs', [-3, 2.5], [3, 2.5]],
  ];
  for (const [op, xs, ys] of cases) assertClose(apply(op, xs), ys, tol, op);
});

test('unary: NaN propagates through every op; out === x works in place', () => {
  for (const op of UNARY_OPS) assert.ok(Number.isNaN(apply(op, [Number.NaN])[0]), op);
  const x = f32([-1, 4]);
  unary(unaryCode('sqrt'), x, x);
  assert.ok(Number.isNaN(x[0]));
  assert.equal(x[1], 2);
});

test('unaryBackward: every op against central differences (h = 1e-2; atol 1e-3, rtol 1e-3)', () => {
  const rand = rng(1);
  const n = 48;
  for (const op of UNARY_OPS) {
    const code = unaryCode(op);
    let x: Float32Array;
    if (op === 'log' || op === 'sqrt') x = randF32(rand, n, 0.5, 2);
    else {
      // Keep |x| >= 0.1 so the kinks of relu and abs are not straddled by the step.
      x = randF32(rand, n, -3, 3).map((v) => (Math.abs(v) < 0.1 ? 0.1 + v : v));
    }
    const dy = randF32(rand, n);
    const y = new Float32Array(n);
    const dx = new Float32Array(n);
    unaryBackward(code, x, dy, dx);
    const num = numericGrad(x, () => {
      unary(code, x, y);
      return dot(dy, y);
    });
    assertClose(dx, num, { atol: 1e-3, rtol: 1e-3 }, op);
  }
});

test('unaryBackward: finite far from the origin, NaN for NaN input (exact checks)', () => {
  const x = f32([1000, -1000, 60, -60]);
  const dy = f32([1, 1, 1, 1]);
  const dx = new Float32Array(4);
  for (const op of ['sigmoid', 'silu', 'gelu_tanh', 'gelu_erf', 'tanh'] as const) {
    unaryBackward(unaryCode(op), x, dy, dx);
    for (const v of dx) assert.ok(Number.isFinite(v), `${op}: ${[...dx]}`);
  }
  // neg' is the constant −1, so it alone passes a NaN x through as −dy.
  for (const op of UNARY_OPS.filter((o) => o !== 'neg')) {
    unaryBackward(unaryCode(op), f32([Number.NaN]), f32([1]), dx.subarray(0, 1));
    assert.ok(Number.isNaN(dx[0]), op);
  }
});

test('unary: empty input writes nothing; unknown code throws', () => {
  unary(unaryCode('exp'), new Float32Array(0), new Float32Array(0));
  unaryBackward(unaryCode('exp'), new Float32Array(0), new Float32Array(0), new Float32Array(0));
  assert.throws(() => unary(99, f32([1]), new Float32Array(1)));
});

test('affine: x·scale + shift, in place (exact for these values)', () => {
  const x = f32([1, -2, 0.5]);
  affine(x, x, 2, 1);
  assert.deepEqual([...x], [3, -3, 2]);
  const o = new Float32Array(1);
  affine(f32([Number.NaN]), o, 0, 1);
  assert.ok(Number.isNaN(o[0]));
});
