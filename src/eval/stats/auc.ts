/**
 * ROC analysis of scores: the area under the ROC curve with ties counted ½ (the Mann–Whitney
 * statistic), the ROC curve itself for plotting, and the true-positive rate at a fixed low
 * false-positive rate as membership-inference papers report it (TPR at 1% / 0.1% FPR).
 *
 * Promises
 * - Direction: a HIGHER score means "more likely positive". The caller decides which class is
 *   positive: lethe's MIA scores are "higher = looks less like a member" (UNLEARNING.md), so an
 *   attack's forget-vs-holdout AUC puts the holdout (non-member) set in the positive slot, or negates
 *   the scores. AUC 0.5 = no separation; 1 = every positive above every negative; 0 = the reverse.
 * - rocAuc(pos, neg) = (#{(p, n): p > n} + ½·#{(p, n): p = n}) / (|pos|·|neg|), computed from mid-ranks
 *   in O(N log N); equal to scipy.stats.mannwhitneyu(pos, neg).statistic / (|pos|·|neg|) and to the
 *   trapezoidal area under rocCurve (a tie block is a diagonal segment, worth ½ per tied pair).
 *   Exact in double for N up to ~10⁷ (rank sums are half-integers).
 * - Degenerate input: no positives or no negatives → NaN (there is no pair to rank); any NaN score →
 *   NaN. ±Infinity scores are ordinary (they sort at the ends).
 * - rocCurve returns one point per distinct threshold, from (0, 0) (threshold +∞) to (1, 1): a point
 *   is (FPR, TPR) for "predict positive when score ≥ threshold", thresholds decreasing. No points are
 *   dropped (sklearn's drop_intermediate=False).
 * - tprAtFpr(…, maxFpr) = the largest TPR over ROC points with FPR ≤ maxFpr (a step function, no
 *   interpolation: a threshold you could actually pick). With few negatives this is coarse: at
 *   maxFpr = 1% and 50 negatives only FPR = 0 qualifies.
 */
import { ConfigError, ShapeError } from '../../errors.ts';

export type Label = boolean | 0 | 1;

export interface RocCurve {
  /** False-positive rates, non-decreasing, from 0 to 1. */
  fpr: number[];
  /** True-positive rates, non-decreasing, from 0 to 1. */
  tpr: number[];
  /** Threshold of each point: "positive when score ≥ threshold"; the first is +Infinity. */
  thresholds: number[];
}

function hasNaN(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i])) return true;
  return false;
}

/**
 * ROC AUC of positives against negatives (higher score = positive), ties counted ½: the probability
 * that a random positive outscores a random negative, plus half the probability of a tie.
 * NaN when either set is empty or any score is NaN.
 */
export function rocAuc(positives: ArrayLike<number>, negatives: ArrayLike<number>): number {
  const nPos = positives.length;
  const nNeg = negatives.length;
  if (nPos === 0 || nNeg === 0 || hasNaN(positives) || hasNaN(negatives)) return Number.NaN;
  const n = nPos + nNeg;
  const order = new Array<number>(n);
  const value = (k: number) => (k < nPos ? positives[k] : negatives[k - nPos]);
  for (let k = 0; k < n; k++) order[k] = k;
  order.sort((i, j) => value(i) - value(j) || 0);
  // Sum of the positives' mid-ranks (1-based); a tie block of ranks lo+1 … hi shares (lo + 1 + hi)/2.
  let rankSum = 0;
  for (let lo = 0; lo < n; ) {
    let hi = lo + 1;
    while (hi < n && value(order[hi]) === value(order[lo])) hi++;
    const mid = (lo + 1 + hi) / 2;
    for (let k = lo; k < hi; k++) if (order[k] < nPos) rankSum += mid;
    lo = hi;
  }
  const u = rankSum - (nPos * (nPos + 1)) / 2;
  return u / (nPos * nNeg);
}

function splitByLabel(scores: ArrayLike<number>, labels: ArrayLike<Label>, where: string) {
  if (scores.length !== labels.length) {
    throw new ShapeError(`${where}: scores and labels differ in length`, {
      expected: `labels.length = scores.length = ${scores.length}`,
      found: `labels.length = ${labels.length}`,
    });
  }
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    const l = labels[i];
    if (l === true || l === 1) pos.push(scores[i]);
    else if (l === false || l === 0) neg.push(scores[i]);
    else {
      throw new ShapeError(`${where}: label ${i} is not a boolean or 0/1`, { found: String(l) });
    }
  }
  return { pos, neg };
}

/** rocAuc on (score, label) pairs; label true/1 = positive. */
export function rocAucLabeled(scores: ArrayLike<number>, labels: ArrayLike<Label>): number {
  const { pos, neg } = splitByLabel(scores, labels, 'rocAucLabeled');
  return rocAuc(pos, neg);
}

/**
 * The ROC curve: (FPR, TPR) for every distinct threshold, decreasing, starting at (0, 0). Empty
 * arrays when there are no positives or no negatives or a score is NaN (the rates are undefined).
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<Label>): RocCurve {
  const { pos, neg } = splitByLabel(scores, labels, 'rocCurve');
  const curve: RocCurve = { fpr: [], tpr: [], thresholds: [] };
  if (pos.length === 0 || neg.length === 0 || hasNaN(pos) || hasNaN(neg)) return curve;
  const items = [...pos.map((s) => ({ s, p: 1 })), ...neg.map((s) => ({ s, p: 0 }))];
  items.sort((a, b) => b.s - a.s || 0);
  curve.fpr.push(0);
  curve.tpr.push(0);
  curve.thresholds.push(Number.POSITIVE_INFINITY);
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < items.length; ) {
    const s = items[i].s;
    while (i < items.length && items[i].s === s) {
      if (items[i].p) tp++;
      else fp++;
      i++;
    }
    curve.fpr.push(fp / neg.length);
    curve.tpr.push(tp / pos.length);
    curve.thresholds.push(s);
  }
  return curve;
}

/** Trapezoidal area under a ROC curve (equals rocAuc for a curve from rocCurve). NaN if empty. */
export function aucFromCurve(curve: RocCurve): number {
  if (curve.fpr.length === 0) return Number.NaN;
  let area = 0;
  for (let i = 1; i < curve.fpr.length; i++) {
    area += ((curve.fpr[i] - curve.fpr[i - 1]) * (curve.tpr[i] + curve.tpr[i - 1])) / 2;
  }
  return area;
}

/**
 * TPR at a fixed FPR budget: the largest TPR among ROC points with FPR ≤ maxFpr (no interpolation).
 * NaN for a degenerate curve (no positives / no negatives / NaN scores).
 */
export function tprAtFpr(scores: ArrayLike<number>, labels: ArrayLike<Label>, maxFpr: number): number {
  if (!(maxFpr >= 0 && maxFpr <= 1)) {
    throw new ConfigError(`tprAtFpr: maxFpr = ${maxFpr} is out of range`, { expected: 'a rate in [0, 1]' });
  }
  return tprAtFprFromCurve(rocCurve(scores, labels), maxFpr);
}

/** As tprAtFpr, on a curve already computed (one curve, several budgets). */
export function tprAtFprFromCurve(curve: RocCurve, maxFpr: number): number {
  if (curve.fpr.length === 0) return Number.NaN;
  let best = 0;
  for (let i = 0; i < curve.fpr.length; i++) if (curve.fpr[i] <= maxFpr) best = Math.max(best, curve.tpr[i]);
  return best;
}
