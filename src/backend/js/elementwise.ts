/**
 * Reference broadcasting kernels: `binary` (codes index BINARY_OPS) and `where`.
 * Promise: out (contiguous, shape `shape`) is written in row-major order, each input read through
 * its own element strides (0 = broadcast); every value is computed in double and rounded once.
 * NaN propagates: maximum(NaN, x) = NaN; eq/gt with a NaN give 0 (IEEE comparisons).
 * pow follows C/IEEE pow, not Math.pow, where they differ: pow(1, y) = 1 and pow(−1, ±∞) = 1.
 */
import { LetheError } from '../../errors.ts';
import { BINARY_OPS, type F32, type I32 } from '../backend.ts';

type Fn2 = (a: number, b: number) => number;

/** Math.max already returns NaN when either side is NaN (a plain `a > b ? a : b` would not). */
const maximum: Fn2 = Math.max;

function ieeePow(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Number.POSITIVE_INFINITY || b === Number.NEGATIVE_INFINITY))) return 1;
  return a ** b;
}

const BINARY: Record<(typeof BINARY_OPS)[number], Fn2> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum,
  pow: ieeePow,
  eq: (a, b) => (a === b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
};

/** Number of elements of `shape` (1 for rank 0). */
export function numel(shape: I32): number {
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d];
  return n;
}

export function binary(op: number, a: F32, b: F32, out: F32, shape: I32, aStrides: I32, bStrides: I32): void {
  const name = BINARY_OPS[op];
  if (name === undefined) {
    throw new LetheError('unknown binary op code', {
      where: 'js backend binary',
      expected: `0..${BINARY_OPS.length - 1}`,
      found: String(op),
    });
  }
  const f = BINARY[name];
  const nd = shape.length;
  const total = numel(shape);
  const idx = new Int32Array(nd);
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < total; o++) {
    out[o] = f(a[ai], b[bi]);
    // Odometer step: advance the last dim, carrying into earlier dims.
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < shape[d]) break;
      ai -= aStrides[d] * shape[d];
      bi -= bStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function where(
  cond: F32,
  a: F32,
  b: F32,
  out: F32,
  shape: I32,
  condStrides: I32,
  aStrides: I32,
  bStrides: I32,
): void {
  const nd = shape.length;
  const total = numel(shape);
  const idx = new Int32Array(nd);
  let ci = 0;
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < total; o++) {
    // NaN != 0, so a NaN condition selects a (as C's `cond != 0` does).
    out[o] = cond[ci] !== 0 ? a[ai] : b[bi];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      ci += condStrides[d];
      ai += aStrides[d];
      bi += bStrides[d];
      if (idx[d] < shape[d]) break;
      ci -= condStrides[d] * shape[d];
      ai -= aStrides[d] * shape[d];
      bi -= bStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}
