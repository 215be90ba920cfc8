/**
 * Reference reductions: `reduce` (codes index REDUCE_OPS), `sumSquares`, row-wise softmax and
 * log-softmax with their backward passes.
 * Promise: sums are taken in double precision; softmax and log-softmax subtract the row max before
 * exponentiating. NaN propagates (a NaN anywhere in a row makes that max, softmax row, etc. NaN).
 * Like PyTorch, a softmax row that is all −∞ (or holds +∞) comes out NaN.
 */
import { LetheError } from '../../errors.ts';
import { type F32, REDUCE_OPS } from '../backend.ts';

/** Max of x[off + j*step] for j < n, −∞ when n = 0, NaN if any element is NaN. */
export function stridedMax(x: F32, off: number, n: number, step: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const v = x[off + j * step];
    if (v > m || Number.isNaN(v)) m = v;
    if (Number.isNaN(m)) return m;
  }
  return m;
}

export function reduce(op: number, x: F32, out: F32, outer: number, r: number, inner: number): void {
  const name = REDUCE_OPS[op];
  if (name === undefined) {
    throw new LetheError('unknown reduce op code', {
      where: 'js backend reduce',
      expected: `0..${REDUCE_OPS.length - 1}`,
      found: String(op),
    });
  }
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      if (name === 'max') {
        out[o * inner + i] = stridedMax(x, base, r, inner);
      } else {
        let s = 0;
        for (let j = 0; j < r; j++) s += x[base + j * inner];
        out[o * inner + i] = s;
      }
    }
  }
}

export function sumSquares(x: F32): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** log Σ_j exp(x[off + j]) over a row of n, computed as max + log Σ exp(x − max). */
export function rowLogSumExp(x: F32, off: number, n: number): number {
  const m = stridedMax(x, off, n, 1);
  if (m === Number.NEGATIVE_INFINITY) return m; // empty or all −∞: log 0
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(x[off + j] - m);
  return m + Math.log(s);
}

export function softmax(x: F32, out: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const m = stridedMax(x, off, cols, 1);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[off + j] - m);
    for (let j = 0; j < cols; j++) out[off + j] = Math.exp(x[off + j] - m) / s;
  }
}

export function softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let dot = 0;
    for (let j = 0; j < cols; j++) dot += dy[off + j] * y[off + j];
    for (let j = 0; j < cols; j++) dx[off + j] = y[off + j] * (dy[off + j] - dot);
  }
}

export function logSoftmax(x: F32, out: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const m = stridedMax(x, off, cols, 1);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[off + j] - m);
    const logS = Math.log(s);
    for (let j = 0; j < cols; j++) out[off + j] = x[off + j] - m - logS;
  }
}

export function logSoftmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += dy[off + j];
    for (let j = 0; j < cols; j++) dx[off + j] = dy[off + j] - Math.exp(y[off + j]) * s;
  }
}
