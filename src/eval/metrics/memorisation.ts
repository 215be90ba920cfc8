/**
 * Memorisation metrics on the task's own sequences (QA answers given the question, documents,
 * token sequences; see shared.ts splitSequences): exact memorisation EM and extraction strength ES
 * from teacher-forced argmax hits, and Jang et al.'s memorisation accuracy MA and extraction
 * likelihood EL_n. Spans: QA — the answer (+EOS) for all four; text — every token after the
 * first; tokens — MA and EL over the whole sequence (as Jang et al.), EM and ES over the suffix
 * after the item's prefixLength (what an extraction attack must produce).
 */
import type { SplitName } from '../../data/task.ts';
import { Rng } from '../../tensor/index.ts';
import type { ScoreRequest } from '../../text/score.ts';
import type { ModelEval } from '../model-eval.ts';
import { hashString } from '../string-hash.ts';
import { ngramOverlap } from '../text/index.ts';
import { finiteMean } from '../truth-ratio.ts';
import { type Direction, type Metric, type MetricContext, type MetricOutput, skip } from '../types.ts';
import { meanOutput, sampleIndices, splitSequences } from './shared.ts';

/**
 * The measures on teacher-forced argmax hits (1 where argmax p(·|x_<t) = x_t) of one
 * scored span, and the choice of prefix positions for the extraction likelihood.
 *
 *   EM (exact memorisation)      mean_t hit_t over the answer tokens
 *   ES (extraction strength)     1 − k* / |y|, k* the smallest k such that hit_t = 1 for every t ≥ k
 *                                (1: the whole answer follows greedily from the prompt alone;
 *                                0: even the last token is not predicted)
 *   MA (memorisation accuracy)   mean_t hit_t over the sequence (Jang et al.) — EM's formula on
 *                                the whole sequence rather than an answer
 * An empty span (|y| = 0) is degenerate: every measure is NaN, and aggregations leave it out.
 */
export function exactMemorisation(hits: ArrayLike<number>): number {
  if (hits.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < hits.length; i++) s += hits[i] ? 1 : 0;
  return s / hits.length;
}

export const memorisationAccuracy = exactMemorisation;

export function extractionStrength(hits: ArrayLike<number>): number {
  const n = hits.length;
  if (n === 0) return Number.NaN;
  let k = n;
  while (k > 0 && hits[k - 1]) k--;
  return 1 - k / n;
}

/**
 * Prefix lengths t for EL_n of a sequence whose scored span is [start, T): every t in
 * [start, T − n] (each leaves at least n true tokens to compare), or `count` of them drawn
 * without replacement from Rng(seed ⊕ hash(id)), sorted. Empty when T − start < n.
 */
export function elPositions(
  id: string,
  start: number,
  T: number,
  n: number,
  count: number,
  seed: number,
): number[] {
  const all: number[] = [];
  for (let t = Math.max(1, start); t <= T - n; t++) all.push(t);
  if (all.length <= count) return all;
  const rng = new Rng((seed ^ hashString(id)) >>> 0);
  return rng
    .shuffle(all)
    .slice(0, count)
    .sort((a, b) => a - b);
}

function sequencesOf(ctx: MetricContext, split: SplitName) {
  const s = splitSequences(ctx.model, ctx.task, split);
  if (!s) skip(`the task's ${split} split is empty`);
  return s;
}

function hitMeasure(ctx: MetricContext, split: SplitName, which: 'em' | 'es' | 'ma'): MetricOutput {
  const s = sequencesOf(ctx, split);
  const requests = which === 'ma' ? s.requests : s.suffixRequests;
  const f = which === 'em' ? exactMemorisation : which === 'es' ? extractionStrength : memorisationAccuracy;
  const values = ctx.model.score(requests).map((r) => f(r.argmaxHit));
  return meanOutput(split, s.ids, values, { part: s.part });
}

// Budgets are rounded up to this so EL's generations batch together; longer greedy
// continuations are cut back (greedy decoding is prefix-consistent).
const BUDGET_STEP = 16;

/**
 * EL_n of each request: for sampled prefix lengths t (elPositions above), the n-gram
 * overlap between the greedy continuation of ids[<t] and the true ids[t…], both cut to at most
 * elMaxNewTokens tokens; averaged over t. NaN for a sequence too short for one n-gram.
 */
export function extractionLikelihoods(
  me: ModelEval,
  ids: readonly string[],
  requests: readonly ScoreRequest[],
  o: { n: number; positions: number; maxNewTokens: number; seed: number },
): number[] {
  const jobs: { item: number; prompt: number[]; truth: number[]; budget: number }[] = [];
  requests.forEach((r, item) => {
    for (const t of elPositions(ids[item], r.start, r.ids.length, o.n, o.positions, o.seed)) {
      const truth = r.ids.slice(t, t + o.maxNewTokens);
      const budget = Math.min(o.maxNewTokens, Math.ceil(truth.length / BUDGET_STEP) * BUDGET_STEP);
      jobs.push({ item, prompt: r.ids.slice(0, t), truth, budget });
    }
  });
  const sums = new Float64Array(requests.length);
  const counts = new Int32Array(requests.length);
  for (const budget of [...new Set(jobs.map((j) => j.budget))].sort((a, b) => b - a)) {
    const group = jobs.filter((j) => j.budget === budget);
    const gens = me.generateIds(
      group.map((j) => j.prompt),
      budget,
    );
    group.forEach((j, i) => {
      sums[j.item] += ngramOverlap(gens[i].slice(0, j.truth.length), j.truth, o.n);
      counts[j.item]++;
    });
  }
  return requests.map((_, i) => (counts[i] === 0 ? Number.NaN : sums[i] / counts[i]));
}

function elMeasure(ctx: MetricContext, split: SplitName): MetricOutput {
  const s = sequencesOf(ctx, split);
  const o = ctx.options;
  const pick = sampleIndices(s.ids.length, o.elMaxItems, o.seed, `el:${split}`);
  const ids = pick.map((i) => s.ids[i]);
  const values = extractionLikelihoods(
    ctx.model,
    ids,
    pick.map((i) => s.requests[i]),
    { n: o.elN, positions: o.elPositions, maxNewTokens: o.elMaxNewTokens, seed: o.seed },
  );
  const out = meanOutput(split, ids, values, {
    part: s.part,
    n: o.elN,
    positionsPerSequence: o.elPositions,
    maxNewTokens: o.elMaxNewTokens,
  });
  if (pick.length < s.ids.length) out.extra!.sampledFrom = s.ids.length;
  if (finiteMean(values).used === 0) out.extra!.note = `no sequence is long enough for one ${o.elN}-gram`;
  return out;
}

const SPLIT_DIRECTION: Record<SplitName, Direction> = {
  forget: 'closer-to-oracle',
  holdout: 'closer-to-oracle',
  retain: 'higher',
};

/**
 * mem.em.<split>: mean over items of the share of span tokens whose teacher-forced argmax is the
 * true token. mem.es.<split>: mean of ES = 1 − k* / |y|. mem.ma.<split>: MA, EM's formula over MA's
 * span. Directions: forget closer-to-oracle, retain higher, holdout (the unseen baseline of Jang et
 * al.'s stopping rule) closer-to-oracle. An empty span is NaN and left out (extra.excludedItems);
 * an empty split is skipped.
 */
/** The memorisation family (mem.em/es/ma/el per split), in the order the registry lists it. */
export const memorisationMetrics: Metric[] = [];
for (const split of ['forget', 'retain', 'holdout'] as SplitName[]) {
  const requires = [`split.${split}.primary`];
  for (const [which, label] of [
    ['em', 'exact memorisation (teacher-forced argmax share)'],
    ['es', 'extraction strength 1 - k* / |y|'],
    ['ma', 'memorisation accuracy (Jang et al.)'],
  ] as const) {
    memorisationMetrics.push({
      name: `mem.${which}.${split}`,
      label: `${which.toUpperCase()} (${split})`,
      direction: SPLIT_DIRECTION[split],
      format: 3,
      summary: `${label} on the ${split} split`,
      requires,
      compute: (ctx) => hitMeasure(ctx, split, which),
    });
  }
  /**
   * mem.el.<split>: mean over items of EL_n (n = options.elN), each the mean over up to
   * options.elPositions sampled prefix lengths t of OVERLAP_n(greedy continuation of x_<t, x_≥t).
   * Sampling t (seeded per item) instead of every t keeps the cost at a bounded number of
   * generations per sequence; splits longer than options.elMaxItems are measured on a seeded
   * subset (extra.sampledFrom). Direction as for MA. Sequences shorter than n + 1 tokens are left out.
   */
  memorisationMetrics.push({
    name: `mem.el.${split}`,
    label: `EL (${split})`,
    direction: SPLIT_DIRECTION[split],
    format: 3,
    summary: `extraction likelihood EL_n on the ${split} split (sampled prefix positions)`,
    requires,
    compute: (ctx) => elMeasure(ctx, split),
  });
}
