/**
 * Jang et al.'s stopping rule (arXiv:2210.01504, ../shared/UNLEARNING.md): a forget set counts as
 * unlearned once BOTH its memorisation accuracy (MA) and its extraction likelihood (EL_n) fall to
 * their values on unseen data (the holdout split). EL_n here: at `positions` sampled prefix
 * lengths t of each scored span, the n-gram overlap between the greedy continuation of x_<t and the
 * true x_≥t (both cut to `maxNewTokens`), averaged over t and then over sequences. Sequences whose
 * scored span is shorter than n give no EL; when none of a set does, the rule uses MA alone and
 * says so (short QA answers at small scale).
 */
import { elPositions } from '../eval/metrics/memorisation.ts';
import { ngramOverlap } from '../eval/text/ngram.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { noGrad } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { generate } from '../text/generate.ts';
import { memorisationAccuracy } from '../train/memorisation.ts';

export interface ElOptions {
  n: number;
  /** Prefix lengths per sequence. */
  positions: number;
  maxNewTokens: number;
  /** At most this many sequences (the first ones; the set is fixed for the whole run). */
  maxItems: number;
  seed: number;
}

/** Mean EL_n over the examples that have a scored span of at least n tokens; NaN when none does. */
export function extractionLikelihood(model: CausalLM, examples: readonly Example[], o: ElOptions): number {
  const jobs: { item: number; prompt: number[]; truth: number[] }[] = [];
  examples.slice(0, o.maxItems).forEach((e, item) => {
    for (const t of elPositions(`el-${item}`, e.start, e.ids.length, o.n, o.positions, o.seed)) {
      jobs.push({ item, prompt: e.ids.slice(0, t), truth: e.ids.slice(t, t + o.maxNewTokens) });
    }
  });
  if (jobs.length === 0) return Number.NaN;
  const sums = new Map<number, { s: number; c: number }>();
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (let k = 0; k < jobs.length; k += 16) {
        const group = jobs.slice(k, k + 16);
        const room = Math.min(
          o.maxNewTokens,
          model.maxPositions - Math.max(...group.map((j) => j.prompt.length)),
        );
        const gens = generate(
          model,
          group.map((j) => j.prompt),
          { maxNewTokens: Math.max(0, room) },
        ).tokens;
        group.forEach((j, i) => {
          const acc = sums.get(j.item) ?? { s: 0, c: 0 };
          acc.s += ngramOverlap(gens[i].slice(0, j.truth.length), j.truth, o.n);
          acc.c++;
          sums.set(j.item, acc);
        });
      }
    });
  } finally {
    if (wasTraining) model.train();
  }
  const per = [...sums.values()].map((a) => a.s / a.c);
  return per.reduce((s, x) => s + x, 0) / per.length;
}

export interface Memorisation {
  ma: number;
  el: number;
}

export function measureMemorisation(
  model: CausalLM,
  examples: readonly Example[],
  batchSize: number,
  el: ElOptions,
): Memorisation {
  return {
    ma: memorisationAccuracy(model, examples, batchSize),
    el: extractionLikelihood(model, examples, el),
  };
}

/** Jang et al.: stop once forget MA and EL are both at or below the holdout's (EL skipped when undefined). */
export function reachedHoldout(forget: Memorisation, holdout: Memorisation): boolean {
  const maOk = forget.ma <= holdout.ma;
  const elOk = Number.isNaN(forget.el) || Number.isNaN(holdout.el) || forget.el <= holdout.el;
  return maOk && elOk;
}
