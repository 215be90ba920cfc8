/**
 * Gradient difference (../shared/UNLEARNING.md), grad-diff: ascend on forget, descend on retain,
 * a weighted sum of loss terms from losses.ts.
 */
import { z } from 'zod';
import { gradientMethod } from '../define.ts';
import { meanNll, weighted } from '../losses.ts';

export const gradDiff = gradientMethod({
  name: 'grad-diff',
  summary: 'Gradient difference: ascend on forget, descend on retain: γ·(−ℓ̄_f) + α·ℓ̄_r.',
  paper: 'Liu et al. 2022 (CoLLAs); TOFU, arXiv:2401.06121',
  args: z.object({ gamma: z.number().default(1), alpha: z.number().default(1) }),
  needs: { retain: true },
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.forget);
    const r = meanNll(ctx.model, b.retain);
    return {
      loss: weighted([
        [-ctx.args.gamma, f],
        [ctx.args.alpha, r],
      ]),
      logs: { forgetNll: f.item(), retainNll: r.item() },
    };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const gradDiffMethods = [gradDiff];
