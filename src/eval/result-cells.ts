/**
 * Reading chosen metrics of one model out of a results file, as a leaderboard row holds them: the
 * value (null when there is none), the 95% interval where the metric gave one, and for every
 * missing value the reason ("n/a: …" for a metric that does not apply, "skipped: …", "failed: …",
 * "not evaluated"). Values the caller knows from elsewhere (a run's manifest timings) fill metrics
 * the evaluation did not compute.
 */
import type { EvalResults } from './results.ts';
import type { ModelRole } from './types.ts';

export interface ResultCells {
  metrics: Record<string, number | null>;
  intervals: Record<string, { lo: number; hi: number }>;
  notes: Record<string, string>;
  /** What a value rests on, where its metric says (items compared, components present). */
  basis: Record<string, string>;
}

export function resultCells(
  r: EvalResults,
  role: ModelRole,
  names: readonly string[],
  fill: Record<string, number | null | undefined> = {},
): ResultCells {
  const out: ResultCells = { metrics: {}, intervals: {}, notes: {}, basis: {} };
  for (const name of names) {
    const m = r.metrics[name]?.[role];
    if (!m && fill[name] !== undefined && fill[name] !== null) {
      out.metrics[name] = fill[name];
      continue;
    }
    out.metrics[name] = null;
    if (!m) out.notes[name] = 'not evaluated';
    else if ('skipped' in m)
      out.notes[name] = /^n\/a\b/.test(m.skipped) ? m.skipped : `skipped: ${m.skipped}`;
    else if ('failed' in m) out.notes[name] = `failed: ${m.failed}`;
    else {
      out.metrics[name] = m.value;
      if (m.value === null) {
        const note = m.extra?.note;
        out.notes[name] = `no value${typeof note === 'string' ? `: ${note}` : ''}`;
      }
      if (m.ci && m.ci.lo !== null && m.ci.hi !== null) out.intervals[name] = { lo: m.ci.lo, hi: m.ci.hi };
      const basis = m.extra?.basis;
      if (typeof basis === 'string') out.basis[name] = basis;
      else if (m.ci && m.ci.items > 0) out.basis[name] = `${m.ci.items} items (95% interval: ${m.ci.method})`;
    }
  }
  return out;
}
