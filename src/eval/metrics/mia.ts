/**
 * Membership-inference attacks: LOSS, zlib, Min-K%, Min-K%++, reference-based (oracle as the
 * reference) and gradient norm, each scoring the forget, retain and holdout sequences of the task
 * (its own format: QA answers given the question, documents, token sequences — see shared.ts
 * splitSequences) and reporting the ROC AUC of forget vs holdout (the value) and of retain vs
 * holdout, with the ROC curve points of both for plotting (at most ROC_MAX_POINTS per curve).
 *
 * AUC orientation: the attack's AUC, P(a holdout item scores as less member-like than a forget
 * item) with ties ½ — 1 means the forget items are all recognised as members, 0.5 means they look
 * like unseen data (what the oracle shows), below 0.5 that they look *less* familiar than unseen
 * data (over-unlearning). Direction of every MIA metric: closer-to-oracle.
 */
import type { JsonValue, SplitName } from '../../data/task.ts';
import { twoSampleInterval } from '../intervals.ts';
import { lossScore, minKPlusPlusScore, minKScore, referenceScore, zlibScore } from '../mia-scores.ts';
import type { ModelEval } from '../model-eval.ts';
import { rocAuc, rocCurve } from '../stats/index.ts';
import { type Metric, type MetricContext, type MetricOutput, NO_ORACLE, skip } from '../types.ts';
import { jsonNumber, sampleIndices, series, splitSequences } from './shared.ts';

export type MiaAttack = 'loss' | 'zlib' | 'minK' | 'minKpp' | 'reference' | 'gradNorm';

interface Scores {
  ids: string[];
  scores: number[];
  /** Items in the split (more than scored when an expensive attack samples a subset). */
  total: number;
}

/** Attack scores of one split's sequences (higher = less member-like). */
export function miaScores(
  ctx: Pick<MetricContext, 'task' | 'oracle' | 'options'>,
  me: ModelEval,
  split: SplitName,
  attack: MiaAttack,
): Scores | null {
  const seqs = splitSequences(me, ctx.task, split);
  if (!seqs) return null;
  const { ids, requests, texts } = seqs;
  switch (attack) {
    case 'loss':
      return { ids, scores: me.score(requests).map((s) => lossScore(s.logProbs)), total: ids.length };
    case 'zlib':
      return {
        ids,
        scores: me.score(requests).map((s, i) => zlibScore(s.logProbs, texts[i])),
        total: ids.length,
      };
    case 'minK':
      return {
        ids,
        scores: me.score(requests).map((s) => minKScore(s.logProbs, ctx.options.minKFraction)),
        total: ids.length,
      };
    case 'minKpp':
      return {
        ids,
        scores: me
          .score(requests, { stats: true })
          .map((s) => minKPlusPlusScore(s.logProbs, s.meanLogProb!, s.stdLogProb!, ctx.options.minKFraction)),
        total: ids.length,
      };
    case 'reference': {
      if (!ctx.oracle) skip(NO_ORACLE);
      const ref = splitSequences(ctx.oracle, ctx.task, split)!;
      const mine = me.score(requests);
      const theirs = ctx.oracle.score(ref.requests);
      return {
        ids,
        scores: mine.map((s, i) => referenceScore(lossScore(s.logProbs), lossScore(theirs[i].logProbs))),
        total: ids.length,
      };
    }
    case 'gradNorm': {
      // A deterministic subset per split: each item costs a full backward pass.
      const pick = sampleIndices(
        ids.length,
        ctx.options.gradNormMaxItems,
        ctx.options.seed,
        `gradNorm:${split}`,
      );
      const norms = me.gradNorms(pick.map((i) => requests[i]));
      return { ids: pick.map((i) => ids[i]), scores: norms, total: ids.length };
    }
  }
}

/** Most ROC points kept per curve: enough to plot, small enough for large splits. */
export const ROC_MAX_POINTS = 256;

function curveJson(members: readonly number[], nonMembers: readonly number[]): JsonValue {
  const c = rocCurve(
    [...nonMembers, ...members],
    [...nonMembers.map(() => 1 as const), ...members.map(() => 0 as const)],
  );
  // Evenly spaced points (always the first and the last) when the curve has more than the cap;
  // thresholds are left out (the first is +Infinity, which JSON cannot hold).
  const n = c.fpr.length;
  const keep =
    n <= ROC_MAX_POINTS
      ? c.fpr.map((_, i) => i)
      : Array.from({ length: ROC_MAX_POINTS }, (_, k) => Math.round((k * (n - 1)) / (ROC_MAX_POINTS - 1)));
  return { fpr: keep.map((i) => c.fpr[i]), tpr: keep.map((i) => c.tpr[i]), points: n };
}

/** The attack AUC of members vs non-members (non-members are the positive, higher-scoring class). */
export const attackAuc = (members: readonly number[], nonMembers: readonly number[]): number =>
  rocAuc(nonMembers, members);

function miaOutput(ctx: MetricContext, attack: MiaAttack): MetricOutput {
  const me = ctx.model;
  const forget = miaScores(ctx, me, 'forget', attack);
  const holdout = miaScores(ctx, me, 'holdout', attack);
  if (!forget || !holdout) skip('the task needs forget and holdout items');
  const retain = miaScores(ctx, me, 'retain', attack);
  const auc = attackAuc(forget.scores, holdout.scores);
  const extra: Record<string, JsonValue> = {
    orientation: 'attack AUC: P(holdout scores as less member-like than forget); 0.5 = indistinguishable',
    aucRetainVsHoldout: retain ? jsonNumber(attackAuc(retain.scores, holdout.scores)) : null,
    roc: {
      forgetVsHoldout: curveJson(forget.scores, holdout.scores),
      retainVsHoldout: retain ? curveJson(retain.scores, holdout.scores) : null,
    },
    items: {
      forget: forget.scores.length,
      holdout: holdout.scores.length,
      retain: retain?.scores.length ?? 0,
    },
  };
  if (attack === 'minK' || attack === 'minKpp') extra.k = ctx.options.minKFraction;
  if (attack === 'gradNorm') {
    extra.sampledFrom = { forget: forget.total, holdout: holdout.total, retain: retain?.total ?? 0 };
  }
  if (!Number.isFinite(auc))
    extra.note = 'AUC undefined (a score was NaN, e.g. a sequence with no scored token)';
  const perItem: MetricOutput['perItem'] = {
    forget: series(forget.ids, forget.scores),
    holdout: series(holdout.ids, holdout.scores),
  };
  if (retain) perItem.retain = series(retain.ids, retain.scores);
  const ci = twoSampleInterval(forget.scores, holdout.scores, (f, h) => rocAuc(h, f), `mia.${attack}`);
  return { value: jsonNumber(auc), ci, perItem, extra };
}

const ATTACKS: { attack: MiaAttack; name: string; label: string; summary: string }[] = [
  {
    attack: 'loss',
    name: 'mia.loss',
    label: 'MIA AUC',
    summary: 'LOSS attack (mean NLL) AUC, forget vs holdout',
  },
  {
    attack: 'zlib',
    name: 'mia.zlib',
    label: 'MIA AUC (zlib)',
    summary: 'zlib attack (mean NLL / zlib bytes) AUC, forget vs holdout',
  },
  {
    attack: 'minK',
    name: 'mia.minK',
    label: 'MIA AUC (Min-K%)',
    summary: 'Min-K% attack AUC, forget vs holdout',
  },
  {
    attack: 'minKpp',
    name: 'mia.minKpp',
    label: 'MIA AUC (Min-K%++)',
    summary: 'Min-K%++ attack AUC, forget vs holdout',
  },
  {
    attack: 'reference',
    name: 'mia.reference',
    label: 'MIA AUC (reference)',
    summary: 'reference attack (mean NLL minus the oracle’s) AUC, forget vs holdout',
  },
  {
    attack: 'gradNorm',
    name: 'mia.gradNorm',
    label: 'MIA AUC (gradient norm)',
    summary: 'gradient-norm attack AUC, forget vs holdout',
  },
];

/**
 * mia.<attack>: the attack AUC of forget (members) vs holdout (non-members); extra holds the
 * retain-vs-holdout AUC and both ROC curves, perItem the scores. Direction: closer-to-oracle (the
 * oracle's AUC is the yardstick: 0.5 only where forget and holdout items are exchangeable, so it is
 * reported with its interval, never assumed). `ci`: stratified bootstrap over forget and holdout items. Skipped without forget or holdout items; mia.reference also without the
 * oracle. A NaN score (no scored token) makes the AUC null with a note. mia.gradNorm scores at
 * most options.gradNormMaxItems items per split (a seeded subset; extra.sampledFrom).
 */
export const miaMetrics: Metric[] = ATTACKS.map(({ attack, name, label, summary }) => ({
  name,
  label,
  direction: 'closer-to-oracle',
  format: 3,
  summary,
  requires: ['split.forget.primary', 'split.holdout.primary', ...(attack === 'reference' ? ['oracle'] : [])],
  compute: (ctx) => miaOutput(ctx, attack),
}));
