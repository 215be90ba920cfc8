/**
 * Shared helpers for the js backend tests (not a test file itself): a seeded PRNG, float32 array
 * builders, a tolerance assertion and central finite differences over float32 inputs.
 */
import assert from 'node:assert/strict';

/** mulberry32: a small deterministic PRNG, so every test run sees the same numbers. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n uniform values in [lo, hi). */
export function randF32(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
  return a;
}

export const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);
export const i32 = (xs: number[]): Int32Array => Int32Array.from(xs);

export interface Tol {
  atol: number;
  rtol: number;
}

/** |a − e| <= atol + rtol·|e| elementwise; NaN must match NaN, ±∞ must match exactly. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tol,
  what = '',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      assert.ok(Object.is(a, e), `${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const err = Math.abs(a - e);
    assert.ok(
      err <= tol.atol + tol.rtol * Math.abs(e),
      `${what}[${i}]: got ${a}, expected ${e} (err ${err.toExponential(2)} > atol ${tol.atol} + rtol ${tol.rtol})`,
    );
  }
}

/**
 * Central differences of a scalar `loss()` with respect to every element of the float32 array x
 * (mutated and restored). The step actually taken is measured after float32 rounding.
 */
export function numericGrad(x: Float32Array, loss: () => number, h = 1e-2): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    x[i] = x0 + h;
    const up = x[i];
    const lUp = loss();
    x[i] = x0 - h;
    const down = x[i];
    const lDown = loss();
    x[i] = x0;
    g[i] = (lUp - lDown) / (up - down);
  }
  return g;
}

/** Σ w[i]·y[i] in double: a scalar loss whose gradient with respect to y is w. */
export function dot(w: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i] * y[i];
  return s;
}
