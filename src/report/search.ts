/**
 * Tuning without the oracle, as the report shows it: per searched run, every setting its search
 * tried on a forget-vs-utility plot (x = how far the setting's forget-vs-holdout membership AUC is
 * from 0.5, the rule's forget-side measure; y = its utility as a share of the target's), the one
 * the rule chose, the one the oracle would have chosen and the gap between them; and each run's
 * cost as a fraction of the oracle's training. Everything is read from the summary (`search` and
 * `costVsOracle` of a row); the oracle's grades were recorded after the search, never used by it.
 */
import type { RunRow, RunSearch, Summary } from '../study/study-schema.ts';
import { type ChartPlan, CONFIG, type Layer } from './chart-style.ts';
import { formatArg, formatValue, seriesOf } from './format.ts';

/** A share as a percentage: two significant digits below 1% ("0.042%"), else one decimal ("3.1%"), whole when whole ("95%", "140%"). */
export function formatShare(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  const pct = 100 * x;
  // Whole percentages (a 95% floor) print whole.
  if (Math.abs(pct - Math.round(pct)) < 1e-9) return `${Math.round(pct)}%`;
  if (pct < 1) return `${Number(pct.toPrecision(2))}%`;
  if (pct < 100) return `${pct.toFixed(1)}%`;
  return `${Math.round(pct)}%`;
}

/** "3.1% of the oracle's training time, 1.2% of its FLOPs", or null when neither is known. */
export function costText(row: RunRow): string | null {
  const c = row.costVsOracle;
  if (!c || (c.time === null && c.flops === null)) return null;
  const parts = [
    c.time !== null ? `${formatShare(c.time)} of the oracle's training time` : null,
    c.flops !== null ? `${formatShare(c.flops)} of its FLOPs` : null,
  ].filter(Boolean);
  const search =
    c.withSearch !== undefined && c.withSearch !== null
      ? ` (with the search: ${formatShare(c.withSearch)} of its time)`
      : '';
  return `${parts.join(', ')}${search}`;
}

/** The arguments that differ between a search's trials (what was searched), else all of them. */
export function searchedKeys(search: RunSearch): string[] {
  const keys = [...new Set(search.trials.flatMap((t) => Object.keys(t.args)))];
  const varying = keys.filter(
    (k) => new Set(search.trials.map((t) => JSON.stringify(t.args[k] ?? null))).size > 1,
  );
  return varying.length > 0 ? varying : keys;
}

/** A trial's setting, as "lr=0.001 steps=20" over the searched arguments. */
export function settingText(search: RunSearch, index: number): string {
  const t = search.trials[index];
  return searchedKeys(search)
    .map((k) => `${k}=${formatArg(t.args[k])}`)
    .join(' ');
}

/** A grade (forget quality is a p-value: it spans decades, so small ones are printed 1.2e-5). */
export function formatGrade(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential(1) : v.toFixed(3);
}

/** The rule's forget-side measure: |AUC − 0.5|, 0 where forget looks like never-seen data. */
export const aucDistance = (auc: number | null): number | null => (auc === null ? null : Math.abs(auc - 0.5));

/** One sentence on the oracle's choice and the gap, or why there is none. */
export function gapText(search: RunSearch): string {
  const metric = search.oracleMetric === 'tofu.forgetQuality' ? 'forget quality' : search.oracleMetric;
  const mine = search.trials[search.chosen].oracleGrade;
  if (search.oracleChoice === null) {
    return `The oracle graded no finalist, so what it would have chosen and the gap are unknown.`;
  }
  const theirs = search.trials[search.oracleChoice].oracleGrade;
  if (search.oracleChoice === search.chosen) {
    return `The oracle would have chosen the same setting (${metric} ${formatGrade(mine)}): gap 0.`;
  }
  return (
    `The oracle would have chosen ${settingText(search, search.oracleChoice)} (${metric} ` +
    `${formatGrade(theirs)} against the rule's ${formatGrade(mine)}): gap ${formatGrade(search.gap)}.`
  );
}

/** A file-safe name per searched run, unique in the summary. */
function chartNames(rows: RunRow[]): string[] {
  const seen = new Map<string, number>();
  return rows.map((r) => {
    const slug = r.id.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60);
    const n = (seen.get(slug) ?? 0) + 1;
    seen.set(slug, n);
    return n === 1 ? `search-${slug}` : `search-${slug}-${n}`;
  });
}

/** The runs that were searched, as the runner listed them (one per seed: searches are per seed). */
export function searchedRuns(raw: Summary): (RunRow & { search: RunSearch })[] {
  return raw.runs.filter((r): r is RunRow & { search: RunSearch } => r.search !== undefined);
}

const STATUS = {
  kept: 'kept the utility floor',
  below: 'below the utility floor',
  earlier: 'earlier rung (fewer steps)',
} as const;
const PICKS = { rule: "rule's choice", oracle: "oracle's choice" } as const;

/** A display name per searched run: its label, with its seed when the study has several. */
function runName(raw: Summary, row: RunRow): string {
  const base = row.label.trim() || row.method || row.id;
  return raw.study.seeds.length > 1 ? `${base} (seed ${row.seed})` : base;
}

/** The plot of one searched run. `colour` is the run's colour in the other charts. */
export function searchChart(
  raw: Summary,
  row: RunRow & { search: RunSearch },
  name: string,
  colour: string,
): ChartPlan {
  const s = row.search;
  const title = `Search: ${runName(raw, row)}`;
  const lastRung = Math.max(...s.trials.map((t) => t.rung));
  const points: Record<string, string | number | boolean | null>[] = [];
  const omitted: string[] = [];
  s.trials.forEach((t, i) => {
    const x = aucDistance(t.miaAuc);
    if (x === null || t.utility === null) {
      omitted.push(`${settingText(s, i)} (no ${x === null ? 'membership AUC' : 'utility'})`);
      return;
    }
    const status = t.rung < lastRung ? STATUS.earlier : t.eligible ? STATUS.kept : STATUS.below;
    points.push({
      trial: i,
      setting: settingText(s, i),
      x,
      y: t.utility,
      auc: t.miaAuc,
      status,
      grade: t.oracleGrade,
      rule: i === s.chosen,
      oracle: i === s.oracleChoice,
    });
  });
  const kept = s.trials.filter((t) => t.eligible).length;
  const floor = formatShare(s.utilityFloor);
  const chosen = s.trials[s.chosen];
  const caption =
    `Each point is one setting the ${s.strategy} search tried (${s.trials.length} in all, ${kept} kept ` +
    `${floor} of the target's utility on the validation part of retain, ${s.validationItems} questions). ` +
    `The rule saw only the forget set, the holdout set and retain: among settings above the floor it ` +
    `takes the one whose forget-vs-holdout membership AUC is closest to 0.5 (left is better). It chose ` +
    `${settingText(s, s.chosen)} (AUC ${formatValue(chosen.miaAuc, 3)}, utility ${formatShare(chosen.utility)})` +
    `${s.eligible ? '' : ', the most useful setting, since none kept the floor'}. ${gapText(s)}` +
    (s.oracleChoice !== null
      ? " The oracle's grades were recorded after the search, for this comparison only."
      : '');
  if (points.length === 0) {
    return {
      name,
      title,
      caption,
      spec: null,
      reason: 'no trial has both a membership AUC and a utility',
      omitted,
    };
  }
  const statuses = Object.values(STATUS).filter((v) => points.some((p) => p.status === v));
  const statusColour: Record<string, string> = {
    [STATUS.kept]: colour,
    [STATUS.below]: '#c9c9c9',
    [STATUS.earlier]: '#e6e6e6',
  };
  const picks = [
    ...(points.some((p) => p.rule) ? [PICKS.rule] : []),
    ...(points.some((p) => p.oracle) ? [PICKS.oracle] : []),
  ];
  const marks = points.flatMap((p) => [
    ...(p.rule ? [{ ...p, pick: PICKS.rule }] : []),
    ...(p.oracle ? [{ ...p, pick: PICKS.oracle }] : []),
  ]);
  const x = {
    field: 'x',
    type: 'quantitative',
    title: '|membership AUC − 0.5|, forget vs holdout (lower is better)',
    scale: { zero: true, nice: true },
  } as const;
  const y = {
    field: 'y',
    type: 'quantitative',
    title: "Utility, share of the target's",
    scale: { zero: false, nice: true },
    axis: { format: '.0%' },
  } as const;
  const layers: Layer[] = [
    {
      data: { values: [{ floor: s.utilityFloor }] },
      mark: { type: 'rule', strokeDash: [5, 4], color: '#777777', strokeWidth: 1.5 },
      encoding: { y: { field: 'floor', type: 'quantitative' } },
    },
    {
      mark: { type: 'point', filled: true, size: 110, opacity: 0.9, stroke: 'white', strokeWidth: 1 },
      encoding: {
        x,
        y,
        color: {
          field: 'status',
          type: 'nominal',
          title: 'Setting',
          scale: { domain: statuses, range: statuses.map((v) => statusColour[v]) },
          sort: null,
        },
      },
    },
  ];
  if (marks.length > 0) {
    layers.push({
      data: { values: marks },
      mark: { type: 'point', filled: false, size: 480, strokeWidth: 2.5 },
      encoding: {
        x,
        y,
        shape: {
          field: 'pick',
          type: 'nominal',
          title: 'Chosen by',
          scale: { domain: picks, range: picks.map((p) => (p === PICKS.rule ? 'circle' : 'diamond')) },
          sort: null,
        },
        color: {
          field: 'pick',
          type: 'nominal',
          title: 'Chosen by',
          scale: { domain: picks, range: picks.map((p) => (p === PICKS.rule ? '#111111' : '#d62728')) },
          sort: null,
        },
      },
    });
  }
  const spec = {
    config: CONFIG,
    title: {
      text: title,
      subtitle: `${s.trials.length} settings; dashed line: the utility floor (${floor})`,
    },
    width: 560,
    height: 340,
    data: { values: points },
    layer: layers,
    resolve: { scale: { color: 'independent', shape: 'independent' } },
  } as ChartPlan['spec'];
  return { name, title, caption, spec, omitted };
}

/** One plot per searched run, in the runner's order; `display` gives each run its usual colour. */
export function searchCharts(raw: Summary, display: Summary = raw): ChartPlan[] {
  const rows = searchedRuns(raw);
  const names = chartNames(rows);
  const series = seriesOf(display);
  return rows.map((row, i) => {
    const colour =
      series.find((x) => x.role === 'run' && x.row.method === row.method && x.row.label === row.label)
        ?.colour ?? '#4c78a8';
    return searchChart(raw, row, names[i], colour);
  });
}

/** The short table of the searches: one line per searched run. */
export interface SearchLine {
  run: string;
  strategy: string;
  trials: number;
  kept: number;
  rule: string;
  ruleAuc: number | null;
  ruleUtility: number | null;
  oracle: string;
  gap: number | null;
  cost: string;
}

export function searchLines(raw: Summary): SearchLine[] {
  return searchedRuns(raw).map((row) => {
    const s = row.search;
    const t = s.trials[s.chosen];
    return {
      run: runName(raw, row),
      strategy: s.strategy,
      trials: s.trials.length,
      kept: s.trials.filter((x) => x.eligible).length,
      rule: settingText(s, s.chosen),
      ruleAuc: t.miaAuc,
      ruleUtility: t.utility,
      oracle:
        s.oracleChoice === null
          ? '—'
          : s.oracleChoice === s.chosen
            ? 'the same'
            : settingText(s, s.oracleChoice),
      gap: s.gap,
      cost: costText(row) ?? '—',
    };
  });
}

/** Column headings of the search table, shared by the HTML and Markdown outputs. */
export const SEARCH_HEADINGS = [
  'Run',
  'Search',
  'Settings (kept floor)',
  "Rule's choice",
  'Its AUC',
  'Its utility',
  "Oracle's choice",
  'Gap (forget quality)',
  'Cost vs oracle training',
] as const;

/** A search line's cells, in SEARCH_HEADINGS order (plain text; the caller escapes). */
export function searchCells(l: SearchLine): string[] {
  return [
    l.run,
    l.strategy,
    `${l.trials} (${l.kept})`,
    l.rule,
    formatValue(l.ruleAuc, 3),
    formatShare(l.ruleUtility),
    l.oracle,
    formatGrade(l.gap),
    l.cost,
  ];
}
