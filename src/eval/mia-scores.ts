/**
 * Membership-inference scores of one sequence from its per-token log-probs, all oriented the same
 * way: higher = looks less like a training member. And PrivLeak, MUSE's relative AUC gap.
 *
 *   LOSS        ℓ̄ = −mean_t log p(x_t)
 *   zlib        ℓ̄ / (bytes of zlib(text)) — the NLL relative to how compressible the text is
 *   Min-K%      −mean of the n lowest log p(x_t), n = max(1, ⌊k·T⌋)
 *   Min-K%++    −mean of the n lowest z_t = (log p(x_t) − μ_t) / σ_t, μ_t and σ_t the mean and std
 *               of log p(v) under p(·|x_<t); a position with σ_t = 0 (a uniform distribution, so
 *               every token is as likely as its mean) gets z_t = 0
 *   reference   ℓ̄_θ − ℓ̄_ref, the reference being the oracle here: a member of the forget set is
 *               easier for θ than for a model that never saw it
 * A sequence with no scored token (T = 0) has no score: NaN.
 */
import { deflateSync } from 'node:zlib';

export function lossScore(logProbs: ArrayLike<number>): number {
  if (logProbs.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < logProbs.length; i++) s -= logProbs[i];
  return s / logProbs.length;
}

/** Bytes of the zlib (deflate, default level) compression of the UTF-8 text; at least 1. */
export const zlibLength = (text: string): number =>
  Math.max(1, deflateSync(Buffer.from(text, 'utf8')).length);

export const zlibScore = (logProbs: ArrayLike<number>, text: string): number =>
  lossScore(logProbs) / zlibLength(text);

/** −mean of the max(1, ⌊k·T⌋) lowest values. */
function lowestMean(values: ArrayLike<number>, k: number): number {
  const T = values.length;
  if (T === 0) return Number.NaN;
  const n = Math.max(1, Math.floor(k * T));
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  let s = 0;
  for (let i = 0; i < n; i++) s += sorted[i];
  return -s / n;
}

export const minKScore = (logProbs: ArrayLike<number>, k: number): number => lowestMean(logProbs, k);

export function minKPlusPlusScore(
  logProbs: ArrayLike<number>,
  mean: ArrayLike<number>,
  std: ArrayLike<number>,
  k: number,
): number {
  const z = new Float64Array(logProbs.length);
  for (let t = 0; t < z.length; t++) z[t] = std[t] > 0 ? (logProbs[t] - mean[t]) / std[t] : 0;
  return lowestMean(z, k);
}

export const referenceScore = (meanNll: number, referenceMeanNll: number): number =>
  meanNll - referenceMeanNll;

/**
 * PrivLeak = (AUC_unl − AUC_oracle) / AUC_oracle × 100 (MUSE), with MUSE's AUC orientation: the
 * probability that a forget item scores as *less* member-like than a holdout item, i.e.
 * 1 − (the attack AUC lethe reports elsewhere). So a model that still remembers D_f (attack AUC
 * near 1, MUSE AUC near 0) gets a strongly negative PrivLeak, as in MUSE's tables; an
 * over-unlearned one (D_f looks *less* familiar than unseen data) a positive one; 0 is the
 * oracle. Takes attack AUCs. NaN when the oracle's MUSE AUC is 0 (attack AUC 1: no scale).
 */
export function privLeak(attackAucUnlearned: number, attackAucOracle: number): number {
  const unl = 1 - attackAucUnlearned;
  const ora = 1 - attackAucOracle;
  if (!(ora > 0)) return Number.NaN;
  return ((unl - ora) / ora) * 100;
}
