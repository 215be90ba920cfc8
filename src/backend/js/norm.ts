/**
 * Reference LayerNorm and RMSNorm over the last axis, forward and backward.
 * Promise: statistics in double (two-pass mean then biased variance); mean and rstd are written
 * per row for the backward pass, which uses exactly those saved values. dw/db are summed over rows
 * in double and then written (overwritten, not accumulated).
 */
import type { F32 } from '../backend.ts';

export function layerNorm(
  x: F32,
  w: F32,
  b: F32 | null,
  out: F32,
  mean: F32,
  rstd: F32,
  rows: number,
  cols: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[off + j];
    const mu = s / cols;
    let v = 0;
    for (let j = 0; j < cols; j++) {
      const dlt = x[off + j] - mu;
      v += dlt * dlt;
    }
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      const y = (x[off + j] - mu) * rs * w[j];
      out[off + j] = b === null ? y : y + b[j];
    }
  }
}

export function layerNormBackward(
  dy: F32,
  x: F32,
  w: F32,
  mean: F32,
  rstd: F32,
  dx: F32,
  dw: F32,
  db: F32 | null,
  rows: number,
  cols: number,
): void {
  const dwAcc = new Float64Array(cols);
  const dbAcc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const mu = mean[r];
    const rs = rstd[r];
    // dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)), ĝ = dy ⊙ w, x̂ = (x − μ)·rstd.
    let gMean = 0;
    let gxMean = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[off + j] - mu) * rs;
      const g = dy[off + j] * w[j];
      gMean += g;
      gxMean += g * xhat;
      dwAcc[j] += dy[off + j] * xhat;
      dbAcc[j] += dy[off + j];
    }
    gMean /= cols;
    gxMean /= cols;
    for (let j = 0; j < cols; j++) {
      const xhat = (x[off + j] - mu) * rs;
      dx[off + j] = rs * (dy[off + j] * w[j] - gMean - xhat * gxMean);
    }
  }
  for (let j = 0; j < cols; j++) dw[j] = dwAcc[j];
  if (db !== null) for (let j = 0; j < cols; j++) db[j] = dbAcc[j];
}

export function rmsNorm(x: F32, w: F32, out: F32, rstd: F32, rows: number, cols: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let ss = 0;
    for (let j = 0; j < cols; j++) ss += x[off + j] * x[off + j];
    const rs = 1 / Math.sqrt(ss / cols + eps);
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) out[off + j] = x[off + j] * rs * w[j];
  }
}

export function rmsNormBackward(
  dy: F32,
  x: F32,
  w: F32,
  rstd: F32,
  dx: F32,
  dw: F32,
  rows: number,
  cols: number,
): void {
  const dwAcc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const rs = rstd[r];
    // dx = rstd · (ĝ − x̂ · mean(ĝ ⊙ x̂)), ĝ = dy ⊙ w, x̂ = x·rstd.
    let gxMean = 0;
    for (let j = 0; j < cols; j++) {
      const xhat = x[off + j] * rs;
      gxMean += dy[off + j] * w[j] * xhat;
      dwAcc[j] += dy[off + j] * xhat;
    }
    gxMean /= cols;
    for (let j = 0; j < cols; j++) {
      const xhat = x[off + j] * rs;
      dx[off + j] = rs * (dy[off + j] * w[j] - xhat * gxMean);
    }
  }
  for (let j = 0; j < cols; j++) dw[j] = dwAcc[j];
}
