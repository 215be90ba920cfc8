/**
 * Negative preference optimisation (npo, npo-rt, npo-kl) and its reference-free variant simnpo.
 * log p is the summed answer log-probability; the reference values are cached before training,
 * so no second model is kept for npo and npo-rt.
 */
import { z } from 'zod';
import { add, affine, neg, type Tensor } from '../../tensor/index.ts';
import { gradientMethod } from '../define.ts';
import { klToReference, meanNll, npoLoss, sequenceNll, simnpoLoss } from '../losses.ts';
import type { MethodContext, UnlearnBatch } from '../types.ts';

/** The NPO term on the batch's forget answers, against the cached reference log-probs. */
function forgetTerm(ctx: MethodContext<{ beta: number }, 'referenceLogProbs'>, b: UnlearnBatch): Tensor {
  const { nll } = sequenceNll(ctx.model, b.forget);
  const ref = Float32Array.from(b.forgetIndex, (i) => ctx.refLogp.forget[i]);
  return npoLoss(neg(nll), ref, ctx.args.beta);
}

const betaArg = { beta: z.number().positive().default(0.1) };

export const npo = gradientMethod({
  name: 'npo',
  summary:
    'NPO: −(2/β)·E log σ(−β·(log p_θ − log p_ref)) on forget answers; a bounded, slower-collapsing GA (GA as β→0).',
  paper: 'Zhang et al. 2024, arXiv:2404.05868',
  args: z.object(betaArg),
  needs: { referenceLogProbs: true },
  loss(ctx, b) {
    const f = forgetTerm(ctx, b);
    return { loss: f, logs: { npo: f.item() } };
  },
});

export const npoRt = gradientMethod({
  name: 'npo-rt',
  summary: 'NPO plus α·ℓ̄ on retain (retain loss).',
  paper: 'Zhang et al. 2024, arXiv:2404.05868',
  args: z.object({ ...betaArg, alpha: z.number().default(1) }),
  needs: { referenceLogProbs: true, retain: true },
  loss(ctx, b) {
    const f = forgetTerm(ctx, b);
    const r = meanNll(ctx.model, b.retain);
    return { loss: add(f, affine(r, ctx.args.alpha)), logs: { npo: f.item(), retainNll: r.item() } };
  },
});

export const npoKl = gradientMethod({
  name: 'npo-kl',
  summary: 'NPO plus α·KL(p_ref ‖ p_θ) on retain answers.',
  paper: 'Zhang et al. 2024, arXiv:2404.05868',
  args: z.object({ ...betaArg, alpha: z.number().default(1) }),
  needs: { referenceLogProbs: true, retain: true, referenceModel: true },
  loss(ctx, b) {
    const f = forgetTerm(ctx, b);
    const kl = klToReference(ctx.model, ctx.reference, b.retain);
    return { loss: add(f, affine(kl, ctx.args.alpha)), logs: { npo: f.item(), retainKl: kl.item() } };
  },
});

export const simnpo = gradientMethod({
  name: 'simnpo',
  summary:
    'SimNPO: length-normalised NPO without a reference model, −(2/β)·E log σ(−(β/|y|)·log p_θ − γ), plus α·ℓ̄ on retain.',
  paper: 'Fan et al. 2024, arXiv:2410.07163',
  args: z.object({
    beta: z.number().positive().default(2.5),
    gamma: z.number().default(0),
    forgetWeight: z.number().default(0.125),
    alpha: z.number().default(1),
  }),
  needs: { retain: true },
  loss(ctx, b) {
    const { nll, counts } = sequenceNll(ctx.model, b.forget);
    const f = simnpoLoss(neg(nll), counts, ctx.args.beta, ctx.args.gamma);
    const r = meanNll(ctx.model, b.retain);
    return {
      loss: add(affine(f, ctx.args.forgetWeight), affine(r, ctx.args.alpha)),
      logs: { simnpo: f.item(), retainNll: r.item() },
    };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const npoMethods = [npo, npoRt, npoKl, simnpo];
