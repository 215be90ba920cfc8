/**
 * Finite-difference gradient checking for tests: compares autograd gradients of a scalar
 * projection Σ f(inputs) ⊙ R (R fixed random, so every output element matters) with central
 * differences computed on the same float32 engine.
 */
import { noGrad } from './autograd.ts';
import { valueAndGrad } from './functional.ts';
import { mul, sum } from './index.ts';
import { Rng } from './rng.ts';
import { Tensor } from './tensor.ts';

export interface GradCheckResult {
  maxError: number;
  where: string;
}

/**
 * Returns the largest violation of |analytic − numeric| ≤ atol + rtol·|numeric| as a ratio
 * (≤ 1 means within tolerance), with the input and element where it happened.
 */
export function gradCheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  { eps = 1e-2, atol = 1e-2, rtol = 1e-2, seed = 7 } = {},
): GradCheckResult {
  const rng = new Rng(seed);
  const probe = fn(...inputs.map((x) => x.detach()));
  const weights = new Tensor(
    Float32Array.from({ length: probe.size }, () => rng.normal()),
    probe.shape,
  );
  const objective = () => sum(mul(fn(...inputs), weights));
  const { grads } = valueAndGrad(objective, inputs);
  let worst: GradCheckResult = { maxError: 0, where: 'none' };
  noGrad(() => {
    inputs.forEach((x, i) => {
      const data = x.f32;
      for (let j = 0; j < data.length; j++) {
        const orig = data[j];
        data[j] = orig + eps;
        const up = objective().item();
        data[j] = orig - eps;
        const down = objective().item();
        data[j] = orig;
        const numeric = (up - down) / (2 * eps);
        const analytic = grads[i].f32[j];
        const ratio = Math.abs(analytic - numeric) / (atol + rtol * Math.abs(numeric));
        if (!(ratio <= worst.maxError)) {
          worst = {
            maxError: ratio,
            where: `input ${i} element ${j}: analytic ${analytic}, numeric ${numeric}`,
          };
        }
      }
    });
  });
  return worst;
}
