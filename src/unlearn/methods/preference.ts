/** Refusal-based methods: idk (fine-tune forget prompts toward "I don't know") and dpo (prefer the refusal). */
import { z } from 'zod';
import { add, affine, neg } from '../../tensor/index.ts';
import { gradientMethod } from '../define.ts';
import { dpoLoss, meanNll, sequenceNll } from '../losses.ts';

export const idk = gradientMethod({
  name: 'idk',
  summary:
    'Fine-tune the forget prompts toward refusal answers ("I don\'t know" strings), plus α·ℓ̄ on retain.',
  paper: 'Maini et al. 2024 (TOFU), arXiv:2401.06121',
  args: z.object({ alpha: z.number().default(1) }),
  needs: { idk: true, retain: true },
  // A refusal answers a question; non-QA forget text would be trained toward itself.
  supports: ['qa'],
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.idk);
    const r = meanNll(ctx.model, b.retain);
    return { loss: add(f, affine(r, ctx.args.alpha)), logs: { idkNll: f.item(), retainNll: r.item() } };
  },
});

export const dpo = gradientMethod({
  name: 'dpo',
  summary:
    'DPO with the refusal as the preferred answer and the true answer as the rejected one: −(2/β)·E log σ(β[(log p_θ − log p_ref)(idk) − (log p_θ − log p_ref)(y_f)]) + α·ℓ̄_r.',
  paper: 'Rafailov et al. 2023, arXiv:2305.18290; TOFU, arXiv:2401.06121',
  args: z.object({ beta: z.number().positive().default(0.1), alpha: z.number().default(1) }),
  needs: { idk: true, retain: true, referenceLogProbs: true },
  // Without a question the preferred and rejected sequences coincide and the margin is 0.
  supports: ['qa'],
  loss(ctx, b) {
    const w = sequenceNll(ctx.model, b.idk).nll;
    const l = sequenceNll(ctx.model, b.forget).nll;
    const pick = (a: Float32Array) => Float32Array.from(b.forgetIndex, (i) => a[i]);
    const d = dpoLoss(neg(w), pick(ctx.refLogp.idk), neg(l), pick(ctx.refLogp.forget), ctx.args.beta);
    const r = meanNll(ctx.model, b.retain);
    return { loss: add(d, affine(r, ctx.args.alpha)), logs: { dpo: d.item(), retainNll: r.item() } };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const preferenceMethods = [idk, dpo];
