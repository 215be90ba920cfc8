/**
 * Multiple-choice accuracy from answer log-likelihoods: each choice is scored as the answer to the
 * question in lethe's QA format (no EOS: a choice is a value, not a whole answer) and the model
 * picks the one with the highest summed log-probability (lm-eval-harness "acc"); the per-token
 * (length-normalised) pick is reported beside it as accPerToken. Ties go to the first choice.
 */
import { qaPrompt } from '../../text/format.ts';
import type { Direction, Metric, MetricContext, MetricOutput } from '../types.ts';
import { series } from './shared.ts';

function argmaxFirst(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

function accuracy(ctx: MetricContext, set: string): MetricOutput {
  const items = ctx.task.eval.mcq[set];
  const requests = ctx.model.qaRequests(
    items.flatMap((q) => q.choices.map((c) => ({ prompt: qaPrompt(q.question), answer: c }))),
    false,
  );
  const scored = ctx.model.score(requests);
  let at = 0;
  const correct: number[] = [];
  const correctPerToken: number[] = [];
  for (const q of items) {
    const sums: number[] = [];
    const means: number[] = [];
    for (let c = 0; c < q.choices.length; c++) {
      const lp = scored[at++].logProbs;
      let s = 0;
      for (const x of lp) s += x;
      sums.push(s);
      means.push(lp.length === 0 ? -Infinity : s / lp.length);
    }
    correct.push(argmaxFirst(sums) === q.answer ? 1 : 0);
    correctPerToken.push(argmaxFirst(means) === q.answer ? 1 : 0);
  }
  const n = items.length;
  const chance = items.reduce((s, q) => s + 1 / q.choices.length, 0) / n;
  return {
    value: correct.reduce((s, x) => s + x, 0) / n,
    perItem: {
      [set]: series(
        items.map((q) => q.id),
        correct,
      ),
    },
    extra: {
      accPerToken: correctPerToken.reduce((s, x) => s + x, 0) / n,
      chance,
      items: n,
      scoring: 'summed answer log-probability; accPerToken: mean per answer token',
    },
  };
}

const SETS: [string, Direction][] = [
  ['forget', 'closer-to-oracle'],
  ['retain', 'higher'],
  ['realAuthors', 'higher'],
  ['worldFacts', 'higher'],
  ['utility', 'higher'],
];

/**
 * mcq.<set> for the well-known sets mcq.forget / retain / realAuthors / worldFacts / utility:
 * the share of questions whose correct choice has the highest summed log-probability. Direction:
 * forget closer-to-oracle (the oracle shows what the question alone allows, often near
 * extra.chance), the others higher. Skipped when the task lacks the set.
 */
export const mcqMetrics: Metric[] = SETS.map(([set, direction]) => ({
  name: `mcq.${set}`,
  label: `MCQ accuracy (${set})`,
  direction,
  format: 3,
  summary: `multiple-choice accuracy on mcq.${set} (answer log-likelihood)`,
  requires: [`eval.mcq.${set}`],
  compute: (ctx) => accuracy(ctx, set),
}));
