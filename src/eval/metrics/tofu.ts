/**
 * TOFU's metrics (Maini et al. 2401.06121) on four sets — forget, retain, real authors, world
 * facts (see shared.ts tofuSet for how a task's data maps to them): answer probability, ROUGE-L
 * recall of the greedy answer, the truth ratio, and from those forget quality and model utility.
 * Every number comes from the ModelEval caches, so the truth ratio, probability and forget
 * quality share one scoring pass and the ROUGE metrics one generation pass per model.
 */
import type { QaItem } from '../../data/items.ts';
import type { JsonValue } from '../../data/task.ts';
import type { ModelEval } from '../model-eval.ts';
import { harmonicMean, ksTwoSample } from '../stats/index.ts';
import { tofuRougeL } from '../text/index.ts';
import {
  forgetTruthStat,
  normalisedProbability,
  probability,
  retainTruthStat,
  truthRatio,
} from '../truth-ratio.ts';
import { type Metric, type MetricContext, type MetricOutput, MetricSkip, skip } from '../types.ts';
import {
  greedyAnswers,
  jsonNumber,
  meanNlls,
  meanOutput,
  qaAnswerRequests,
  series,
  type TofuRole,
  tofuSet,
} from './shared.ts';

type Part = 'prob' | 'rouge' | 'truthRatio';
const ROLES: TofuRole[] = ['forget', 'retain', 'realAuthors', 'worldFacts'];
const UTILITY_ROLES: TofuRole[] = ['retain', 'realAuthors', 'worldFacts'];
const PARTS: Part[] = ['prob', 'rouge', 'truthRatio'];

/** Real authors / world facts normalise the probability over the answer options (TOFU). */
const normalised = (role: TofuRole) => role === 'realAuthors' || role === 'worldFacts';

function setOf(ctx: { task: MetricContext['task'] }, role: TofuRole) {
  const s = tofuSet(ctx.task, role);
  if ('missing' in s) skip(s.missing);
  return s;
}

// ---------------------------------------------------------------------------------------------
// The three per-set quantities

/** Plain P̃ = exp(−ℓ̄(y|x)) per item, or the normalised share over answer + perturbed answers. */
function probabilityOf(me: ModelEval, items: readonly QaItem[], norm: boolean): number[] {
  const answers = meanNlls(me, qaAnswerRequests(me, items));
  if (!norm) return answers.map(probability);
  const withOptions = items.filter((q) => q.perturbedAnswers?.length);
  const pert = meanNlls(
    me,
    qaAnswerRequests(
      me,
      withOptions.flatMap((q) => q.perturbedAnswers!.map((answer) => ({ question: q.question, answer }))),
    ),
  );
  let at = 0;
  return items.map((q, i) => {
    const k = q.perturbedAnswers?.length ?? 0;
    if (k === 0) return Number.NaN;
    const v = normalisedProbability(answers[i], pert.slice(at, at + k));
    at += k;
    return v;
  });
}

/**
 * Per-item truth ratio R = GM_j P̃(ŷ_j|x) / P̃(ỹ|x), ỹ the paraphrased answer where the item has
 * one (forget, retain), else the original answer (real authors, world facts, as TOFU does). NaN
 * for an item without perturbed answers.
 */
export function truthRatios(
  me: ModelEval,
  items: readonly QaItem[],
): { ratios: number[]; paraphrased: number } {
  const correct = meanNlls(
    me,
    qaAnswerRequests(
      me,
      items.map((q) => ({ question: q.question, answer: q.paraphrasedAnswer ?? q.answer })),
    ),
  );
  const withOptions = items.filter((q) => q.perturbedAnswers?.length);
  const pert = meanNlls(
    me,
    qaAnswerRequests(
      me,
      withOptions.flatMap((q) => q.perturbedAnswers!.map((answer) => ({ question: q.question, answer }))),
    ),
  );
  let at = 0;
  const ratios = items.map((q, i) => {
    const k = q.perturbedAnswers?.length ?? 0;
    if (k === 0) return Number.NaN;
    const r = truthRatio(correct[i], pert.slice(at, at + k));
    at += k;
    return r;
  });
  return { ratios, paraphrased: items.filter((q) => q.paraphrasedAnswer !== undefined).length };
}

function rougeRecalls(me: ModelEval, items: readonly QaItem[]): { recalls: number[]; blocked: number } {
  const gens = greedyAnswers(
    me,
    items.map((q) => q.question),
  );
  return {
    recalls: gens.map((g, i) => tofuRougeL(items[i].answer, g.text)),
    blocked: gens.filter((g) => g.blocked).length,
  };
}

/** One TOFU quantity on one role, as a metric output (skips when the set or its options are missing). */
function tofuPart(ctx: Pick<MetricContext, 'task' | 'model'>, role: TofuRole, part: Part): MetricOutput {
  const set = setOf(ctx, role);
  const ids = set.items.map((q) => q.id);
  const me = ctx.model;
  const source = { set: set.source };
  if (part === 'prob') {
    const norm = normalised(role);
    if (norm && !set.items.some((q) => q.perturbedAnswers?.length))
      skip(`${set.source} has no perturbed answers to normalise the probability over`);
    return meanOutput(role, ids, probabilityOf(me, set.items, norm), {
      ...source,
      normalised: norm,
    });
  }
  if (part === 'rouge') {
    const { recalls, blocked } = rougeRecalls(me, set.items);
    const extra: Record<string, JsonValue> = { ...source, rouge: 'ROUGE-L recall, Porter stemming' };
    if (me.transform) extra.blockedByFilter = blocked;
    return meanOutput(role, ids, recalls, extra);
  }
  if (!set.items.some((q) => q.perturbedAnswers?.length)) skip(`${set.source} has no perturbed answers`);
  const { ratios, paraphrased } = truthRatios(me, set.items);
  const stat = role === 'forget' ? forgetTruthStat : retainTruthStat;
  const out = meanOutput(role, ids, ratios.map(stat), {
    ...source,
    aggregation: role === 'forget' ? 'mean min(R, 1/R)' : 'mean max(0, 1 - R)',
    correctAnswer:
      paraphrased === set.items.length ? 'paraphrased' : paraphrased === 0 ? 'original' : 'mixed',
  });
  out.perItem!.truthRatio = series(ids, ratios);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Registration

const ROLE_LABEL: Record<TofuRole, string> = {
  forget: 'forget',
  retain: 'retain',
  realAuthors: 'real authors',
  worldFacts: 'world facts',
};

const ROLE_WORDS: Record<TofuRole, string> = {
  forget: 'the forget set',
  retain: 'the retain set',
  realAuthors: 'real authors',
  worldFacts: 'world facts',
};

const roleMetrics: Metric[] = [];
for (const role of ROLES) {
  const forget = role === 'forget';
  const direction = forget ? 'closer-to-oracle' : 'higher';
  /**
   * tofu.<role>.prob: mean P̃ = exp(−ℓ̄(y|x)) over the items (real authors / world facts: the
   * normalised P̃(y)/(P̃(y)+Σ_j P̃(ŷ_j))). Direction: forget closer-to-oracle, others higher.
   * Missing set: skipped; an item with no scored token is left out (counted in extra).
   */
  roleMetrics.push({
    name: `tofu.${role}.prob`,
    label: `Probability (${ROLE_LABEL[role]})`,
    direction,
    format: 3,
    summary: `answer probability on ${ROLE_WORDS[role]}${normalised(role) ? ' (normalised over the options)' : ''}`,
    compute: (ctx) => tofuPart(ctx, role, 'prob'),
  });
  /**
   * tofu.<role>.rouge: mean ROUGE-L recall (Porter-stemmed) of the greedy answer against the
   * reference answer. Direction: forget closer-to-oracle, others higher. An empty generation
   * scores 0; a missing set is skipped.
   */
  roleMetrics.push({
    name: `tofu.${role}.rouge`,
    label: `ROUGE-L (${ROLE_LABEL[role]})`,
    direction,
    format: 3,
    summary: `ROUGE-L recall (stemmed) of greedy answers on ${ROLE_WORDS[role]}`,
    compute: (ctx) => tofuPart(ctx, role, 'rouge'),
  });
  /**
   * tofu.<role>.truthRatio: per item R = GM_j P̃(ŷ_j|x)/P̃(ỹ|x); forget mean min(R, 1/R),
   * others mean max(0, 1 − R). Direction: forget closer-to-oracle, others higher. Items without
   * perturbed answers are left out; a set with none is skipped.
   */
  roleMetrics.push({
    name: `tofu.${role}.truthRatio`,
    label: `Truth ratio (${ROLE_LABEL[role]})`,
    direction,
    format: 3,
    summary: `truth ratio on ${ROLE_WORDS[role]} (${forget ? 'mean min(R, 1/R)' : 'mean max(0, 1 - R)'})`,
    compute: (ctx) => tofuPart(ctx, role, 'truthRatio'),
  });
}

/**
 * tofu.forgetQuality: the p-value of the two-sample KS test (exact two-sided, as scipy ks_2samp)
 * between the per-item forget truth ratios of this model and of the oracle. Direction: higher
 * (1 = indistinguishable from the oracle). Needs the oracle: without one it is skipped with that
 * reason. Items with a non-finite R are left out of both samples; an empty sample gives null with
 * the test's reason.
 */
export const forgetQuality: Metric = {
  name: 'tofu.forgetQuality',
  label: 'Forget quality',
  direction: 'higher',
  format: 'sci',
  summary: "KS-test p-value of forget truth ratios against the oracle's",
  requires: ['oracle', 'split.forget.qa'],
  compute(ctx) {
    const set = setOf(ctx, 'forget');
    if (!set.items.some((q) => q.perturbedAnswers?.length)) skip(`${set.source} has no perturbed answers`);
    const mine = truthRatios(ctx.model, set.items).ratios;
    const theirs = truthRatios(ctx.oracle!, set.items).ratios;
    const a = mine.filter(Number.isFinite);
    const b = theirs.filter(Number.isFinite);
    const ks = ksTwoSample(a, b);
    const extra: Record<string, JsonValue> = {
      statistic: jsonNumber(ks.statistic),
      n: a.length,
      nOracle: b.length,
      test: 'two-sample Kolmogorov-Smirnov, two-sided, exact for small samples (scipy ks_2samp)',
      basis: `KS p-value comparing ${a.length} truth ratios with the oracle's ${b.length}; a p-value, not an effect size: with few items even a large shift can keep it high`,
    };
    if (ks.reason) extra.note = ks.reason;
    const ids = set.items.map((q) => q.id);
    return {
      value: jsonNumber(ks.pvalue),
      perItem: { truthRatio: series(ids, mine), oracleTruthRatio: series(ids, theirs) },
      extra,
    };
  },
};

/**
 * tofu.modelUtility: harmonic mean of {probability, ROUGE recall, truth ratio} × {retain, real
 * authors, world facts} — 9 numbers when the task has all three sets. Direction: higher. A missing
 * set (or a quantity it cannot give) is named in extra.missing and the harmonic mean is taken over
 * the numbers that exist (extra.used says how many of 9); with none at all it is skipped. A zero
 * component makes it 0, as the harmonic mean does.
 */
export const modelUtility: Metric = {
  name: 'tofu.modelUtility',
  label: 'Model utility',
  direction: 'higher',
  format: 3,
  summary: 'harmonic mean of probability, ROUGE and truth ratio on retain, real authors and world facts',
  compute(ctx) {
    const components: Record<string, number> = {};
    const missing: string[] = [];
    for (const role of UTILITY_ROLES) {
      const set = tofuSet(ctx.task, role);
      if ('missing' in set) {
        missing.push(`${role} (prob, rouge, truthRatio): ${set.missing}`);
        continue;
      }
      for (const part of PARTS) {
        try {
          const v = tofuPart(ctx, role, part).value;
          if (v === null) missing.push(`${role}.${part}: no finite value`);
          else components[`${role}.${part}`] = v;
        } catch (e) {
          if (!(e instanceof MetricSkip)) throw e;
          missing.push(`${role}.${part}: ${e.message}`);
        }
      }
    }
    const values = Object.values(components);
    if (values.length === 0) skip(`no utility component could be computed (${missing.join('; ')})`);
    const present = Object.keys(components);
    return {
      value: jsonNumber(harmonicMean(values)),
      extra: {
        components,
        used: values.length,
        of: 9,
        missing,
        basis: `harmonic mean of ${present.length} of 9 components (${present.join(', ')})${missing.length > 0 ? `; missing: ${missing.map((m) => m.split(':')[0]).join(', ')}` : ''}`,
      },
    };
  },
};

/** The TOFU family: per role prob, rouge, truth ratio; then forget quality and model utility. */
export const tofuMetrics: readonly Metric[] = [...roleMetrics, forgetQuality, modelUtility];
