/**
 * The gradient-ascent family (../shared/UNLEARNING.md): ga, grad-diff, ga-kl, random-label.
 * Each is a weighted sum of loss terms from losses.ts.
 */
import { z } from 'zod';
import { add, affine, type Tensor } from '../../tensor/index.ts';
import { klToReference, meanNll } from '../losses.ts';
import type { UnlearnMethod } from '../types.ts';

const weighted = (terms: [number, Tensor | null][]): Tensor =>
  terms
    .filter(([w, t]) => t && w !== 0)
    .map(([w, t]) => affine(t!, w))
    .reduce((a, b) => add(a, b));

export const ga: UnlearnMethod<Record<string, never>> = {
  name: 'ga',
  summary: 'Gradient ascent on the forget set: maximise its NLL (−ℓ̄_f). Unbounded; collapses without care.',
  paper: 'Jang et al. 2022, arXiv:2210.01504',
  kind: 'gradient',
  args: z.object({}),
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.forget);
    return { loss: affine(f, -1), logs: { forgetNll: f.item() } };
  },
};

export const gradDiff: UnlearnMethod<{ gamma: number; alpha: number }> = {
  name: 'grad-diff',
  summary: 'Gradient difference: ascend on forget, descend on retain: γ·(−ℓ̄_f) + α·ℓ̄_r.',
  paper: 'Liu et al. 2022 (CoLLAs); TOFU, arXiv:2401.06121',
  kind: 'gradient',
  args: z.object({ gamma: z.number().default(1), alpha: z.number().default(1) }),
  needs: { retain: true },
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.forget);
    const r = meanNll(ctx.model, b.retain!);
    return {
      loss: weighted([
        [-ctx.args.gamma, f],
        [ctx.args.alpha, r],
      ]),
      logs: { forgetNll: f.item(), retainNll: r.item() },
    };
  },
};

export const gaKl: UnlearnMethod<{ alpha: number }> = {
  name: 'ga-kl',
  summary:
    'Gradient ascent plus KL(p_ref ‖ p_θ) on retain answers, keeping retain predictions close to the original model.',
  paper: 'TOFU, arXiv:2401.06121',
  kind: 'gradient',
  args: z.object({ alpha: z.number().default(1) }),
  needs: { retain: true, referenceModel: true },
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.forget);
    const kl = klToReference(ctx.model, ctx.reference!, b.retain!);
    return {
      loss: weighted([
        [-1, f],
        [ctx.args.alpha, kl],
      ]),
      logs: { forgetNll: f.item(), retainKl: kl.item() },
    };
  },
};

export const randomLabel: UnlearnMethod<{
  k: number;
  forgetWeight: number;
  randomWeight: number;
  normalWeight: number;
}> = {
  name: 'random-label',
  summary:
    'Ascend on forget answers, descend toward K random (wrong) answers to the same prompts, and keep retain predictions close to the original (cross-entropy to p_ref).',
  paper: 'Yao et al. 2023, arXiv:2310.10683',
  kind: 'gradient',
  args: z.object({
    k: z.number().int().positive().default(5),
    forgetWeight: z.number().default(0.5),
    randomWeight: z.number().default(1),
    normalWeight: z.number().default(1),
  }),
  needs: { retain: true, referenceModel: true, randomAnswers: (args) => args.k as number },
  // A random answer needs a question: a biography has none (it would become its own "answer").
  supports: ['qa'],
  loss(ctx, b) {
    const a = ctx.args;
    const f = meanNll(ctx.model, b.forget);
    const rand = b.random.map((r) => meanNll(ctx.model, r));
    const randMean = affine(
      rand.reduce((x, y) => add(x, y)),
      1 / rand.length,
    );
    // CE(p_ref → p_θ) differs from KL(p_ref ‖ p_θ) by p_ref's entropy, a constant: same gradient.
    const kl = klToReference(ctx.model, ctx.reference!, b.retain!);
    return {
      loss: weighted([
        [-a.forgetWeight, f],
        [a.randomWeight, randMean],
        [a.normalWeight, kl],
      ]),
      logs: { forgetNll: f.item(), randomNll: randMean.item(), retainKl: kl.item() },
    };
  },
};

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const gradientAscentMethods = [ga, gradDiff, gaKl, randomLabel];
