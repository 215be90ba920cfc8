/**
 * Reference AdamW step (decoupled weight decay, PyTorch torch.optim.AdamW semantics).
 * Promise: per element, in double, then stored: p ← p(1 − lr·wd); m and v updated and stored to
 * float32; the update reads the stored (float32) m and v, as PyTorch does.
 */
import type { F32 } from '../backend.ts';

export function adamw(
  p: F32,
  g: F32,
  m: F32,
  v: F32,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  step: number,
): void {
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i];
    m[i] = beta1 * m[i] + (1 - beta1) * gi;
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
    const mHat = m[i] / bc1;
    const vHat = v[i] / bc2;
    p[i] = p[i] * decay - (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}
