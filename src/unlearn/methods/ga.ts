/**
 * Gradient ascent (../shared/UNLEARNING.md), ga: maximise the forget NLL. The rest of its family
 * (grad-diff, ga-kl, random-label) lives in the files named after them.
 */
import { z } from 'zod';
import { affine } from '../../tensor/index.ts';
import { gradientMethod } from '../define.ts';
import { meanNll } from '../losses.ts';

export const ga = gradientMethod({
  name: 'ga',
  summary: 'Gradient ascent on the forget set: maximise its NLL (−ℓ̄_f). Unbounded; collapses without care.',
  paper: 'Jang et al. 2022, arXiv:2210.01504',
  args: z.object({}),
  needs: {},
  loss(ctx, b) {
    const f = meanNll(ctx.model, b.forget);
    return { loss: affine(f, -1), logs: { forgetNll: f.item() } };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const gaMethods = [ga];
