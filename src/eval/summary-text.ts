/**
 * A plain-text table of a results file for the terminal: one line per metric with the model's,
 * the oracle's and the target's values (± half the 95% interval, where there is one; or why there
 * is none), its direction mark from the registry, then the closeness summary.
 */
import { DIRECTION_MARK } from './display.ts';
import { getMetric, hasMetric } from './metrics/index.ts';
import type { EvalResults, MetricResult } from './results.ts';

/** The direction of a metric as the registry says (the results file's copy for unknown names). */
const directionOf = (name: string, stored: keyof typeof DIRECTION_MARK) =>
  hasMetric(name) ? getMetric(name).direction : stored;

function cell(r: MetricResult | undefined): string {
  if (!r) return '';
  if ('skipped' in r) return 'skipped';
  if ('failed' in r) return 'FAILED';
  if (r.value === null) return 'n/a';
  const v = r.value;
  const text = Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4);
  const ci = r.ci;
  if (!ci || ci.lo === null || ci.hi === null) return text;
  const h = (ci.hi - ci.lo) / 2;
  return `${text} ±${h >= 1e5 || (h !== 0 && h < 1e-3) ? h.toExponential(1) : h.toFixed(4)}`;
}

export function summaryLines(results: EvalResults): string[] {
  const roles = (['unlearned', 'oracle', 'target'] as const).filter((r) => results.models[r]);
  const names = Object.keys(results.metrics);
  const width = Math.max(6, ...names.map((n) => n.length + 3));
  const header = [
    'metric'.padEnd(width),
    ...roles.map((r) => (r === 'unlearned' ? 'model' : r).padStart(20)),
  ];
  const lines = [header.join(' ')];
  const reasons: string[] = [];
  for (const n of names) {
    const e = results.metrics[n];
    lines.push(
      [
        `${n} ${DIRECTION_MARK[directionOf(n, e.direction)]}`.padEnd(width),
        ...roles.map((r) => cell(e[r]).padStart(20)),
      ].join(' '),
    );
    const r = e.unlearned;
    if ('skipped' in r) reasons.push(`  ${n}: skipped: ${r.skipped}`);
    if ('failed' in r) reasons.push(`  ${n}: failed: ${r.failed}`);
  }
  const c = results.closeness;
  lines.push(
    'skipped' in c
      ? `closeness to the oracle: skipped: ${c.skipped}`
      : `closeness to the oracle (gap left, 0 = oracle, 1 = target): mean ${c.mean?.toFixed(4) ?? 'n/a'}, ` +
          `median ${c.median?.toFixed(4) ?? 'n/a'} over ${c.included} of ${c.considered} metrics ` +
          '(those whose target–oracle gap exceeds its uncertainty)',
  );
  if (reasons.length > 0) lines.push('not computed for the model:', ...reasons);
  for (const note of results.notes) lines.push(`note: ${note}`);
  return lines;
}
