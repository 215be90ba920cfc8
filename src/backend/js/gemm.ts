/**
 * Reference batched GEMM. Promise: C_i = op(A_i)·op(B_i) (or C_i += …) exactly as the Backend
 * contract states, each dot product summed left to right in double precision and rounded once.
 */
import type { F32 } from '../backend.ts';

export function matmul(
  a: F32,
  b: F32,
  c: F32,
  batch: number,
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  strideA: number,
  strideB: number,
  strideC: number,
  accumulate: boolean,
): void {
  // Element steps: op(A)[i, p] = a[offA + i*aRow + p*aCol], op(B)[p, j] = b[offB + p*bRow + j*bCol].
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  for (let t = 0; t < batch; t++) {
    const offA = t * strideA;
    const offB = t * strideB;
    const offC = t * strideC;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        let ai = offA + i * aRow;
        let bi = offB + j * bCol;
        for (let p = 0; p < k; p++) {
          acc += a[ai] * b[bi];
          ai += aCol;
          bi += bRow;
        }
        const ci = offC + i * n + j;
        c[ci] = accumulate ? c[ci] + acc : acc;
      }
    }
  }
}
