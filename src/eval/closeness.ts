/**
 * One summary of how close an unlearned model came to the oracle, relative to where it started
 * (the target): per metric the fraction of the target→oracle gap that is left,
 *
 *   gapLeft_m = |m_unl − m_oracle| / (|m_target − m_oracle| + ε),   ε = 1e-9,
 *
 * 0 = the oracle's value exactly, 1 = no better than the target, above 1 = further from the oracle
 * than the target was (e.g. over-unlearning, or utility lost where target and oracle agree). The
 * summary is the mean (and median) of gapLeft over the metrics where it is defined.
 *
 * A metric enters only with finite values for all three models and a real gap: where the target's
 * and the oracle's values carry confidence intervals, |m_target − m_oracle| must exceed the sum of
 * their half-widths (the gap is larger than its uncertainty); a metric without intervals needs
 * |m_target − m_oracle| ≥ 1% of max(|m_target|, |m_oracle|) (and > ε). Where target and oracle
 * agree (e.g. retain metrics, both models trained on the retain data) the ratio would divide by
 * noise and swamp the mean, so such metrics are listed with their absolute distance |m_unl −
 * m_oracle| and the reason they were left out; `included` of `considered` says how many entered. Lower is better; the direction of each metric does not matter,
 * since the oracle's value is the goal for every one.
 */

export const CLOSENESS_EPSILON = 1e-9;

export const CLOSENESS_DEFINITION =
  'per metric gapLeft = |m_unlearned - m_oracle| / (|m_target - m_oracle| + 1e-9), the fraction of the ' +
  'target-to-oracle gap left (0 = at the oracle, 1 = no better than the target, >1 = further away); ' +
  'a metric enters only when its target-oracle gap exceeds its uncertainty (the summed half-widths of ' +
  "the two models' 95% intervals; without intervals, 1% of their scale); mean and median over the " +
  'included metrics';
/** Smallest relative target–oracle gap for a metric to enter the summary. */
export const CLOSENESS_MIN_RELATIVE_GAP = 0.01;

export interface ClosenessInput {
  unlearned: number | null;
  oracle: number | null;
  target: number | null;
  /** Half-widths of the oracle's and the target's confidence intervals, where known. */
  oracleHalfWidth?: number | null;
  targetHalfWidth?: number | null;
}

export interface ClosenessEntry {
  /** The fraction of the gap left, or null when the metric is not part of the summary. */
  gapLeft: number | null;
  /** |m_unl − m_oracle| (null without both values). */
  distance: number | null;
  /** The target–oracle gap's uncertainty (sum of the two half-widths), when both are known. */
  uncertainty?: number | null;
  included: boolean;
  reason?: string;
}

export interface Closeness {
  /** Mean of gapLeft over the included metrics (null when none). */
  mean: number | null;
  median: number | null;
  included: number;
  /** Metrics considered (included or not). */
  considered: number;
  metrics: Record<string, ClosenessEntry>;
}

const finite = (x: number | null): x is number => x !== null && Number.isFinite(x);

export function closenessEntry(v: ClosenessInput): ClosenessEntry {
  const { unlearned: u, oracle: o, target: t } = v;
  const distance = finite(u) && finite(o) ? Math.abs(u - o) : null;
  if (!finite(u) || !finite(o) || !finite(t)) {
    const missing = (
      [
        ['unlearned', u],
        ['oracle', o],
        ['target', t],
      ] as const
    )
      .filter(([, x]) => !finite(x))
      .map(([n]) => n);
    return { gapLeft: null, distance, included: false, reason: `no value for ${missing.join(', ')}` };
  }
  const gap = Math.abs(t - o);
  const hw = [v.targetHalfWidth, v.oracleHalfWidth];
  if (hw.every((h) => h !== undefined && h !== null && Number.isFinite(h))) {
    const uncertainty = (hw[0] as number) + (hw[1] as number);
    if (gap <= uncertainty || gap <= CLOSENESS_EPSILON) {
      return {
        gapLeft: null,
        distance,
        uncertainty,
        included: false,
        reason: `target and oracle agree within uncertainty (|Δ| = ${gap.toPrecision(3)} ≤ ${uncertainty.toPrecision(3)}, the summed half-widths of their 95% intervals)`,
      };
    }
    return { gapLeft: Math.abs(u - o) / (gap + CLOSENESS_EPSILON), distance, uncertainty, included: true };
  }
  if (gap <= CLOSENESS_EPSILON || gap < CLOSENESS_MIN_RELATIVE_GAP * Math.max(Math.abs(t), Math.abs(o))) {
    return {
      gapLeft: null,
      distance,
      included: false,
      reason: `target and oracle agree (no interval; |Δ| = ${gap.toPrecision(3)} is under 1% of their scale)`,
    };
  }
  return { gapLeft: Math.abs(u - o) / (gap + CLOSENESS_EPSILON), distance, included: true };
}

/** Per-metric entries and their mean and median, in the order given. */
export function closeness(values: Record<string, ClosenessInput>): Closeness {
  const metrics: Record<string, ClosenessEntry> = {};
  const gaps: number[] = [];
  for (const [name, v] of Object.entries(values)) {
    const e = closenessEntry(v);
    metrics[name] = e;
    if (e.included && e.gapLeft !== null) gaps.push(e.gapLeft);
  }
  const sorted = [...gaps].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return {
    mean: gaps.length === 0 ? null : gaps.reduce((s, x) => s + x, 0) / gaps.length,
    median: gaps.length === 0 ? null : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2,
    included: gaps.length,
    considered: Object.keys(metrics).length,
    metrics,
  };
}
