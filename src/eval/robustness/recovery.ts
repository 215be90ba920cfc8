/**
 * How much of what unlearning removed an attack brings back. For a metric m measured on the
 * target (before unlearning), on the unlearned model, and on the unlearned model after an attack:
 *
 *   recovery = (m_after − m_unlearned) / (m_target − m_unlearned)
 *
 * 0: the attack changed nothing; 1: the metric is back at the target's value. The ratio of
 * differences works for either direction of a metric (NLL, where unlearning raises it, or ROUGE /
 * probability, where it lowers them) without a flag. Clipped to [0, 1] by default: an attack that
 * makes the metric worse recovers nothing (not a negative amount), and overshooting the target is
 * full recovery. Unclipped values are available for diagnostics.
 *
 * Degenerate cases, returned as NaN so a report shows "n/a" rather than a misleading number:
 * - a gap |m_target − m_unlearned| ≤ minGap: unlearning did not move the metric, so there is
 *   nothing to recover (0 would read as "robust", 1 as "broken"; neither is true);
 * - any input not finite.
 * Take the means over items first and pass those: the ratio of per-item gaps is unstable for
 * items the unlearning barely touched.
 */

export interface RecoveryOptions {
  /** Clip to [0, 1] (default true). */
  clip?: boolean;
  /** Smallest gap treated as real (default 1e-6·max(1, |target|)). */
  minGap?: number;
}

/**
 * Fraction of the target→unlearned gap an attack recovers. `before`: the unlearned model's metric
 * (before the attack); `after`: after the attack; `target`: the model before unlearning.
 */
export function recoveryRate(
  before: number,
  after: number,
  target: number,
  opts: RecoveryOptions = {},
): number {
  if (!Number.isFinite(before) || !Number.isFinite(after) || !Number.isFinite(target)) return Number.NaN;
  const gap = target - before;
  const minGap = opts.minGap ?? 1e-6 * Math.max(1, Math.abs(target));
  if (Math.abs(gap) <= minGap) return Number.NaN;
  const r = (after - before) / gap;
  return (opts.clip ?? true) ? Math.min(1, Math.max(0, r)) : r;
}
