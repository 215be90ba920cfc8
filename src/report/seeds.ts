/**
 * Several seeds, one row: a study run with several seeds has one row per (method, arguments) and
 * seed; the report shows each configuration once, with every metric as the mean over its seeds and
 * the spread as ± one standard deviation across seeds (sample sd, n − 1), which the stars then
 * treat as the value's uncertainty. A single-seed study is shown as it is. Idempotent.
 */
import type { RunRow, Summary } from '../study/study-schema.ts';

const key = (r: RunRow): string => `${r.method}\u0000${r.label}\u0000${JSON.stringify(r.args)}`;

function meanSd(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  const sd =
    values.length > 1 ? Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd };
}

/** One row per configuration: the mean and ± sd across seeds of every metric. */
export function mergeSeeds(rows: RunRow[]): RunRow {
  if (rows.length === 1) return rows[0];
  const first = rows[0];
  const seeds = rows.map((r) => r.seed);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: RunRow['metrics'] = {};
  const intervals: NonNullable<RunRow['intervals']> = {};
  const basis: NonNullable<RunRow['basis']> = {};
  const notes: RunRow['notes'] = {};
  for (const k of keys) {
    const vs = rows
      .map((r) => r.metrics[k])
      .filter((v): v is number => v !== null && v !== undefined && Number.isFinite(v));
    if (vs.length === 0) {
      metrics[k] = null;
      const note = rows.map((r) => r.notes[k]).find(Boolean);
      if (note) notes[k] = note;
      continue;
    }
    const { mean, sd } = meanSd(vs);
    metrics[k] = mean;
    intervals[k] = { lo: mean - sd, hi: mean + sd };
    basis[k] = `mean ± sd over ${vs.length} of ${rows.length} seeds (${seeds.join(', ')})`;
  }
  const t = (f: (r: RunRow) => number) => meanSd(rows.map(f)).mean;
  // Searches are per seed (the report draws each from the unmerged rows); costs are averaged.
  const { search: _search, costVsOracle: _cost, ...rest } = first;
  const costs = rows.map((r) => r.costVsOracle);
  const meanOf = (f: (c: NonNullable<RunRow['costVsOracle']>) => number | null | undefined) => {
    const vs = costs.map((c) => (c ? f(c) : null)).filter((v): v is number => typeof v === 'number');
    return vs.length === rows.length ? meanSd(vs).mean : null;
  };
  const cost: RunRow['costVsOracle'] = costs.every(Boolean)
    ? {
        time: meanOf((c) => c.time),
        flops: meanOf((c) => c.flops),
        runFlops: meanOf((c) => c.runFlops),
        ...(costs.some((c) => c?.withSearch !== undefined)
          ? { withSearch: meanOf((c) => c.withSearch) }
          : {}),
      }
    : undefined;
  return {
    ...rest,
    ...(cost ? { costVsOracle: cost } : {}),
    id: first.id.replace(/-s-?\d+$/, '') || first.id,
    metrics,
    intervals,
    basis,
    notes,
    seeds,
    warnings: [...new Set(rows.flatMap((r) => r.warnings ?? []))],
    timings: { seconds: t((r) => r.timings.seconds), peakRssMb: t((r) => r.timings.peakRssMb) },
  };
}

/** The summary as the report shows it: runs of several seeds merged (see the file comment). */
export function forDisplay(summary: Summary): Summary {
  const groups = new Map<string, RunRow[]>();
  for (const r of summary.runs) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  if ([...groups.values()].every((g) => g.length === 1)) return summary;
  return { ...summary, runs: [...groups.values()].map(mergeSeeds) };
}
