/**
 * A plain-text table of a results file for the terminal: one line per metric with the model's,
 * the oracle's and the target's values (or why there is none), then the closeness summary.
 */
import type { EvalResults, MetricResult } from './results.ts';

const ARROW = { higher: '↑', lower: '↓', 'closer-to-oracle': '≈o' } as const;

function cell(r: MetricResult | undefined): string {
  if (!r) return '';
  if ('skipped' in r) return 'skipped';
  if ('failed' in r) return 'FAILED';
  if (r.value === null) return 'n/a';
  const v = r.value;
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : v.toFixed(4);
}

export function summaryLines(results: EvalResults): string[] {
  const roles = (['unlearned', 'oracle', 'target'] as const).filter((r) => results.models[r]);
  const names = Object.keys(results.metrics);
  const width = Math.max(6, ...names.map((n) => n.length + 3));
  const header = [
    'metric'.padEnd(width),
    ...roles.map((r) => (r === 'unlearned' ? 'model' : r).padStart(12)),
  ];
  const lines = [header.join(' ')];
  const reasons: string[] = [];
  for (const n of names) {
    const e = results.metrics[n];
    lines.push(
      [`${n} ${ARROW[e.direction]}`.padEnd(width), ...roles.map((r) => cell(e[r]).padStart(12))].join(' '),
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
          `median ${c.median?.toFixed(4) ?? 'n/a'} over ${c.included} metrics`,
  );
  if (reasons.length > 0) lines.push('not computed for the model:', ...reasons);
  for (const note of results.notes) lines.push(`note: ${note}`);
  return lines;
}
