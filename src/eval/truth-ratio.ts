/**
 * TOFU's probability and truth-ratio arithmetic on mean NLLs (ℓ̄, nats per answer token), kept
 * apart from models so the orientation can be tested on hand-built numbers.
 *
 *   P̃(y|x) = exp(−ℓ̄(y|x))
 *   normalised P̃ (real authors / world facts) = P̃(y) / (P̃(y) + Σ_j P̃(ŷ_j))
 *   R = GM_j P̃(ŷ_j|x) / P̃(ỹ|x) = exp(ℓ̄(ỹ) − mean_j ℓ̄(ŷ_j))
 * ỹ is the paraphrased answer (the original answer on real authors / world facts), ŷ_j the
 * perturbed (wrong) answers. R < 1: the model prefers the correct wording; R ≈ 1: it cannot tell
 * true from false (what a model that never saw the fact shows). Aggregations: forget
 * mean min(R, 1/R) (1 = indifferent), retain-like mean max(0, 1 − R) (higher = knows the truth).
 */

/** P̃ = exp(−ℓ̄). NaN stays NaN. */
export const probability = (meanNll: number): number => Math.exp(-meanNll);

/**
 * P̃(y) / (P̃(y) + Σ_j P̃(ŷ_j)), computed in log space (stable for large ℓ̄). NaN when any
 * input is NaN; with no perturbed answers it is 1 (only one option), which callers avoid by
 * requiring perturbed answers.
 */
export function normalisedProbability(answerNll: number, perturbedNlls: readonly number[]): number {
  const logs = [-answerNll, ...perturbedNlls.map((x) => -x)];
  if (logs.some((x) => Number.isNaN(x))) return Number.NaN;
  const m = Math.max(...logs);
  if (m === -Infinity) return Number.NaN;
  let z = 0;
  for (const l of logs) z += Math.exp(l - m);
  return Math.exp(logs[0] - m) / z;
}

/** R = exp(ℓ̄(ỹ) − mean_j ℓ̄(ŷ_j)). NaN with no perturbed answers or a NaN input. */
export function truthRatio(correctNll: number, perturbedNlls: readonly number[]): number {
  if (perturbedNlls.length === 0) return Number.NaN;
  const mean = perturbedNlls.reduce((s, x) => s + x, 0) / perturbedNlls.length;
  return Math.exp(correctNll - mean);
}

/** Forget aggregation of one item: min(R, 1/R) in (0, 1]; 1 when the model is indifferent. */
export const forgetTruthStat = (r: number): number => Math.min(r, 1 / r);

/** Retain-side aggregation of one item: max(0, 1 − R); 0 when the model prefers a wrong answer. */
export const retainTruthStat = (r: number): number => Math.max(0, 1 - r);

/** Mean of the finite values and how many were left out; NaN when none is finite. */
export function finiteMean(values: readonly number[]): { mean: number; used: number; excluded: number } {
  let sum = 0;
  let used = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += v;
      used++;
    }
  }
  return { mean: used === 0 ? Number.NaN : sum / used, used, excluded: values.length - used };
}
