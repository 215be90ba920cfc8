/**
 * Random labels (../shared/UNLEARNING.md), random-label: ascend on forget answers, descend toward
 * random wrong answers to the same prompts, keep retain predictions close to the original; a
 * weighted sum of loss terms from losses.ts.
 */
import { z } from 'zod';
import { add, affine } from '../../tensor/index.ts';
import { gradientMethod } from '../define.ts';
import { klToReference, meanNll, weighted } from '../losses.ts';

export const randomLabel = gradientMethod({
  name: 'random-label',
  summary:
    'Ascend on forget answers, descend toward K random (wrong) answers to the same prompts, and keep retain predictions close to the original (cross-entropy to p_ref).',
  paper: 'Yao et al. 2023, arXiv:2310.10683',
  args: z.object({
    k: z.number().int().positive().default(5),
    forgetWeight: z.number().default(0.5),
    randomWeight: z.number().default(1),
    normalWeight: z.number().default(1),
  }),
  needs: { retain: true, referenceModel: true, randomAnswers: (args) => args.k },
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
    const kl = klToReference(ctx.model, ctx.reference, b.retain);
    return {
      loss: weighted([
        [-a.forgetWeight, f],
        [a.randomWeight, randMean],
        [a.normalWeight, kl],
      ]),
      logs: { forgetNll: f.item(), randomNll: randMean.item(), retainKl: kl.item() },
    };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const randomLabelMethods = [randomLabel];
