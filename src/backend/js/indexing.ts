/**
 * Reference data-movement kernels: `copyStrided`, `gather`, `scatterAdd`.
 * Promise: copyStrided visits index tuples in row-major order of `shape`; scatterAdd adds source
 * rows in ascending i, so repeated indices accumulate in a fixed, deterministic order.
 */
import type { F32, I32 } from '../backend.ts';
import { numel } from './elementwise.ts';

export function copyStrided(
  src: F32,
  srcOffset: number,
  srcStrides: I32,
  dst: F32,
  dstOffset: number,
  dstStrides: I32,
  shape: I32,
  accumulate: boolean,
): void {
  const nd = shape.length;
  const total = numel(shape);
  const idx = new Int32Array(nd);
  let si = srcOffset;
  let di = dstOffset;
  for (let e = 0; e < total; e++) {
    dst[di] = accumulate ? dst[di] + src[si] : src[si];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      si += srcStrides[d];
      di += dstStrides[d];
      if (idx[d] < shape[d]) break;
      si -= srcStrides[d] * shape[d];
      di -= dstStrides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

export function gather(table: F32, idx: I32, out: F32, cols: number): void {
  for (let i = 0; i < idx.length; i++) {
    out.set(table.subarray(idx[i] * cols, idx[i] * cols + cols), i * cols);
  }
}

export function scatterAdd(src: F32, idx: I32, dst: F32, cols: number): void {
  for (let i = 0; i < idx.length; i++) {
    const d = idx[i] * cols;
    const s = i * cols;
    for (let c = 0; c < cols; c++) dst[d + c] += src[s + c];
  }
}
