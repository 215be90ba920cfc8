/**
 * Derived metrics: numbers computed from other metrics' stored results (for this model and for the
 * target and oracle of the same evaluation), registered like any metric so their label, direction
 * and format live in the registry, and computed once by the runner after the metrics they read.
 *
 *   robustness.relearnRecovery  share of the forgetting that a short relearning attack undoes
 *   closeness.gapLeft           mean fraction of the target→oracle gap left (closeness.ts)
 */
import type { JsonValue } from '../../data/task.ts';
import { CLOSENESS_DEFINITION, closeness } from '../closeness.ts';
import { halfWidth, pairedInterval } from '../intervals.ts';
import { finiteMean } from '../truth-ratio.ts';
import { type Metric, type MetricContext, type MetricResultLike, skip } from '../types.ts';
import { isDerived } from './registry.ts';
import { jsonNumber } from './shared.ts';

const resultValue = (r: MetricResultLike | undefined): number | null => (r && 'value' in r ? r.value : null);

const perItemOf = (r: MetricResultLike | undefined, series: string): Map<string, number> => {
  const s = r && 'value' in r ? r.perItem?.[series] : undefined;
  const out = new Map<string, number>();
  s?.ids.forEach((id, i) => {
    const v = s.values[i];
    if (v !== null) out.set(id, v);
  });
  return out;
};

const mean = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
};

/** (b̄ − ā) / (b̄ − b̄_target), clamped to [0, 1]. */
const recovery = (before: number, after: number, targetBefore: number): number =>
  Math.min(1, Math.max(0, (before - after) / (before - targetBefore)));

/**
 * robustness.relearnRecovery: how much of the forgetting a relearning attack undoes, on the
 * held-back forget items of robustness.relearn:
 *
 *   recovery = (b̄ − ā) / (b̄ − b̄_T), clamped to [0, 1],
 *
 * b̄ this model's mean answer NLL before the attack, ā after it, b̄_T the target's before (all on the
 * same items). 0 = the attack brought nothing back, 1 = back to the target. Direction: lower. The
 * interval is a paired bootstrap over the held-back items. Not applicable ("n/a", skipped with the
 * reason) for the target itself, and for a model whose NLL did not rise above the target's beyond
 * its uncertainty (the lower end of the 95% interval of b̄ − b̄_T is not above 0): with no
 * forgetting there is nothing to recover, and a ratio over noise is no number.
 */
export const relearnRecovery: Metric = {
  name: 'robustness.relearnRecovery',
  label: 'Relearn recovery',
  direction: 'lower',
  format: 'pct',
  summary: 'share of the forgetting (forget NLL above the target) undone by a short relearning attack',
  requires: ['target', 'metric.robustness.relearn'],
  compute(ctx) {
    if (ctx.role === 'target') skip('n/a: the target is the reference the recovery is measured from');
    const mine = ctx.results!('robustness.relearn', ctx.role);
    const theirs = ctx.results!('robustness.relearn', 'target');
    if (resultValue(theirs) === null) skip("n/a: the target's relearning check has no value");
    const b = perItemOf(mine, 'before');
    const a = perItemOf(mine, 'heldOut');
    const bt = perItemOf(theirs, 'before');
    const ids = [...b.keys()].filter((id) => a.has(id) && bt.has(id));
    if (ids.length === 0) skip('n/a: no held-back item has before, after and target values');
    const B = ids.map((id) => b.get(id)!);
    const A = ids.map((id) => a.get(id)!);
    const T = ids.map((id) => bt.get(id)!);
    const moved = pairedInterval([B, T], ([x, t]) => mean(x) - mean(t), 'relearn.moved');
    const rise = finiteMean(B).mean - finiteMean(T).mean;
    const extra: Record<string, JsonValue> = {
      before: jsonNumber(finiteMean(B).mean),
      after: jsonNumber(finiteMean(A).mean),
      targetBefore: jsonNumber(finiteMean(T).mean),
      items: ids.length,
      formula: '(before − after) / (before − targetBefore), clamped to [0, 1]',
    };
    if (moved.lo === null || moved.lo <= 0) {
      skip(
        `n/a: the run did not move (forget NLL ${rise >= 0 ? '+' : ''}${rise.toPrecision(3)} vs the target, ` +
          `95% interval [${moved.lo?.toPrecision(3)}, ${moved.hi?.toPrecision(3)}] includes 0): nothing to recover`,
      );
    }
    const ci = pairedInterval(
      [B, A, T],
      ([x, y, t]) => {
        const d = mean(x) - mean(t);
        return d > 0 ? recovery(mean(x), mean(y), mean(t)) : Number.NaN;
      },
      'relearn.recovery',
    );
    return { value: recovery(mean(B), mean(A), mean(T)), ci, extra };
  },
};

/** The value and interval half-width of a metric for a role. */
function point(ctx: MetricContext, name: string, role: 'unlearned' | 'oracle' | 'target') {
  const r = ctx.results!(name, role);
  return {
    value: resultValue(r),
    halfWidth: r && 'value' in r && r.ci ? halfWidth(r.ci) : null,
  };
}

/**
 * closeness.gapLeft: the mean over metrics of the fraction of the target→oracle gap this model
 * leaves, |m − m_oracle| / |m_target − m_oracle| (closeness.ts), over every non-derived metric of
 * the evaluation whose target–oracle gap exceeds its uncertainty (extra.included of
 * extra.considered, each left-out metric with its reason). Direction: lower (0 = the oracle, 1 = no
 * better than the target). Needs the oracle and the target; null when no metric qualifies.
 */
export const closenessGapLeft: Metric = {
  name: 'closeness.gapLeft',
  label: 'Gap left',
  direction: 'lower',
  format: 3,
  summary: 'mean fraction of the target→oracle gap left, over metrics whose gap exceeds its uncertainty',
  requires: ['oracle', 'target', 'metric.*'],
  compute(ctx) {
    const names = (ctx.names ?? []).filter((n) => !isDerived(ctx.metric(n)));
    const c = closeness(
      Object.fromEntries(
        names.map((n) => {
          const u = point(ctx, n, ctx.role);
          const o = point(ctx, n, 'oracle');
          const t = point(ctx, n, 'target');
          return [
            n,
            {
              unlearned: u.value,
              oracle: o.value,
              target: t.value,
              oracleHalfWidth: o.halfWidth,
              targetHalfWidth: t.halfWidth,
            },
          ];
        }),
      ),
    );
    return {
      value: c.mean,
      extra: {
        definition: CLOSENESS_DEFINITION,
        median: c.median,
        included: c.included,
        considered: c.considered,
        metrics: c.metrics as unknown as JsonValue,
        ...(c.mean === null ? { note: 'no metric has a target–oracle gap beyond its uncertainty' } : {}),
      },
    };
  },
};

/** The derived metrics (computed from other metrics' results), in the order the registry lists them. */
export const derivedMetrics: readonly Metric[] = [relearnRecovery, closenessGapLeft];
