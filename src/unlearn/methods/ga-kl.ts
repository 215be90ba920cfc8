/**
 * Gradient ascent with a KL term (../shared/UNLEARNING.md), ga-kl: ascend on forget while
 * KL(p_ref ‖ p_θ) keeps retain predictions close to the original model; a weighted sum of loss
 * terms from losses.ts.
 */
import { z } from 'zod';
import { gradientMethod } from '../define.ts';
import { klToReference, meanNll, weighted } from '../losses.ts';

export const gaKl = gradientMethod({
  name: 'ga-kl',
  summary:
    'Gradient ascent plus KL(p_ref ‖ p_θ) on retain answers, keeping retain predictions close to the original model.',
  paper: 'TOFU, arXiv:2401.06121',
  args: z.object({ alpha: z.number().default(1) }),
  needs: { retain: true, referenceModel: true },
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.forget);
    const kl = klToReference(ctx.model, ctx.reference, b.retain);
    return {
      loss: weighted([
        [-1, f],
        [ctx.args.alpha, kl],
      ]),
      logs: { forgetNll: f.item(), retainKl: kl.item() },
    };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const gaKlMethods = [gaKl];
