/**
 * Reference fused cross-entropy over rows of logits against integer targets.
 * Promise: lse is max-shifted and summed in double; rows whose target is ignoreIndex get loss 0
 * and gradient 0 but still get their lse. A target outside [0, cols) that is not ignoreIndex is a
 * caller bug, and this oracle throws on it (a native kernel would read out of bounds).
 */
import { LetheError } from '../../errors.ts';
import type { F32, I32 } from '../backend.ts';
import { rowLogSumExp } from './reduce.ts';

function checkTarget(t: number, row: number, cols: number, kernel: string): void {
  if (!(t >= 0 && t < cols)) {
    throw new LetheError('cross-entropy target out of range', {
      where: `js backend ${kernel}, row ${row}`,
      expected: `0 <= target < ${cols} or the ignore index`,
      found: String(t),
    });
  }
}

export function crossEntropy(
  logits: F32,
  targets: I32,
  losses: F32,
  lse: F32,
  rows: number,
  cols: number,
  ignoreIndex: number,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const l = rowLogSumExp(logits, off, cols);
    lse[r] = l;
    const t = targets[r];
    if (t === ignoreIndex) {
      losses[r] = 0;
      continue;
    }
    checkTarget(t, r, cols, 'crossEntropy');
    losses[r] = l - logits[off + t];
  }
}

export function crossEntropyBackward(
  logits: F32,
  targets: I32,
  lse: F32,
  dLoss: F32,
  dLogits: F32,
  rows: number,
  cols: number,
  ignoreIndex: number,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    const t = targets[r];
    if (t === ignoreIndex) {
      dLogits.fill(0, off, off + cols);
      continue;
    }
    checkTarget(t, r, cols, 'crossEntropyBackward');
    const g = dLoss[r];
    const l = lse[r];
    for (let j = 0; j < cols; j++) {
      const p = Math.exp(logits[off + j] - l);
      dLogits[off + j] = g * (j === t ? p - 1 : p);
    }
  }
}
