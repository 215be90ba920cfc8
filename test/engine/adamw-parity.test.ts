/**
 * AdamW parity against torch.optim.AdamW (test/fixtures/engine/adamw-step.json: float32, lr 1e-2,
 * betas (0.9, 0.95), eps 1e-8, weight_decay 0.1): two steps from the same parameters with the same
 * gradients must give torch's parameters, exp_avg (m) and exp_avg_sq (v) after each step. One
 * tensor has gradients of 1e-9..1e-7, where sqrt(v̂) ~ eps, so the place where eps is added
 * (to sqrt(v) / sqrt(1 − β2^t), as torch does) shows in the result.
 *
 * Tolerance: per tensor, max abs error ≤ 1e-6 · max |torch value| (≈ 8 float32 ulps of the
 * largest element). The parameters move by ~lr = 1e-2 per step, so an update that is wrong by
 * more than ~2e-4 of itself fails; adding eps before the bias correction (Adam's ε̂ variant) is
 * off by ~2e-3 of the tiny-gradient tensor's largest element.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { AdamW } from '../../src/nn/index.ts';
import { Tensor } from '../../src/tensor/index.ts';
import { assertRelClose, backendName, decode, type EncodedTensor, readFixture } from './fixtures.ts';

const TOL = 1e-6;

interface AdamWFixture {
  hyperparams: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  names: string[];
  init: Record<string, EncodedTensor>;
  steps: {
    grads: Record<string, EncodedTensor>;
    after: Record<string, { param: EncodedTensor; exp_avg: EncodedTensor; exp_avg_sq: EncodedTensor }>;
  }[];
}

test(`AdamW: two steps match torch.optim.AdamW (params, exp_avg, exp_avg_sq) [${backendName()}]`, (t: TestContext) => {
  const fx = readFixture<AdamWFixture>('adamw-step.json');
  const hp = fx.hyperparams;
  const params = fx.names.map((name) => {
    const p = decode(fx.init[name], true);
    p.name = name;
    return p;
  });
  const opt = new AdamW(params, { lr: hp.lr, betas: hp.betas, eps: hp.eps, weightDecay: hp.weight_decay });
  let worst = 0;
  fx.steps.forEach((step, s) => {
    params.forEach((p, i) => {
      p.grad = decode(step.grads[fx.names[i]]);
    });
    opt.step();
    opt.zeroGrad();
    const state = opt.state();
    params.forEach((p, i) => {
      const name = fx.names[i];
      const want = step.after[name];
      const slot = state.params[i];
      assert.ok(slot, `step ${s + 1}: no state for ${name}`);
      assert.equal(slot.step, s + 1, `step ${s + 1}: step count of ${name}`);
      const what = `step ${s + 1} ${name}`;
      worst = Math.max(
        worst,
        assertRelClose(p, decode(want.param), TOL, `${what} param`),
        assertRelClose(new Tensor(slot.m, p.shape), decode(want.exp_avg), TOL, `${what} exp_avg`),
        assertRelClose(new Tensor(slot.v, p.shape), decode(want.exp_avg_sq), TOL, `${what} exp_avg_sq`),
      );
    });
  });
  t.diagnostic(`worst max abs error / max |torch| = ${worst.toExponential(2)} (tol ${TOL})`);
});
