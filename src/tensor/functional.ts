/** Functional autograd: the value of a scalar function and its gradient w.r.t. given tensors. */
import { LetheError } from '../errors.ts';
import { Tensor } from './tensor.ts';

/**
 * Evaluate fn() and return its value with d fn / d param for each param (zeros where fn does
 * not depend on it). The params' own `.grad` fields are left exactly as they were.
 */
export function valueAndGrad(
  fn: () => Tensor,
  params: readonly Tensor[],
): { value: Tensor; grads: Tensor[] } {
  const saved = params.map((p) => ({ grad: p.grad, requiresGrad: p.requiresGrad }));
  try {
    for (const p of params) {
      p.grad = null;
      p.requiresGrad = true;
    }
    const value = fn();
    if (value.size !== 1)
      throw new LetheError(`valueAndGrad: fn must return a scalar, got ${value.size} elements`);
    if (value.requiresGrad) value.backward();
    const grads = params.map((p) => p.grad ?? new Tensor(new Float32Array(p.size), p.shape));
    return { value: value.detach(), grads };
  } finally {
    params.forEach((p, i) => {
      p.grad = saved[i].grad;
      p.requiresGrad = saved[i].requiresGrad;
    });
  }
}
