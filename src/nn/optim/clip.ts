/**
 * Global gradient-norm clipping, torch.nn.utils.clip_grad_norm_ (L2) semantics:
 *   norm = sqrt(Σ_params Σ g²);  coef = maxNorm / (norm + 1e-6);  if coef < 1: g ← g·coef.
 * (So a norm within 1e-6 below maxNorm is still scaled by a factor just under 1, as in PyTorch.)
 *
 * Promises: returns the norm before clipping; parameters without a gradient are ignored; when the
 * norm is NaN or infinite it is returned as is and no gradient is touched, so the caller can stop
 * with a clear error instead of training on garbage.
 */
import { backend } from '../../backend/index.ts';
import { ConfigError } from '../../errors.ts';
import type { Tensor } from '../../tensor/index.ts';

export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) {
    throw new ConfigError(`clipGradNorm: maxNorm = ${maxNorm} is not a positive finite number`);
  }
  const grads: Float32Array[] = [];
  for (const p of params) if (p.grad) grads.push(p.grad.f32);
  // Squares are summed in double by the kernel and across parameters here.
  let total = 0;
  for (const g of grads) total += backend.sumSquares(g);
  const norm = Math.sqrt(total);
  if (!Number.isFinite(norm)) return norm;
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const g of grads) backend.affine(g, g, coef, 0);
  }
  return norm;
}
