/**
 * The HTML report page: study facts, the leaderboard (reference rows set apart, best run per
 * column marked, column descriptions as header tooltips, a legend of directions), the plots as
 * inline SVG and a detail section per row. One self-contained document: inline CSS, inline SVG,
 * one small inline script for sorting, no external resource of any kind. Every piece of text from
 * the summary is escaped; the charts' SVG comes from Vega, which escapes its own text.
 */
import type { Column, RunRow, Summary } from '../study/study-schema.ts';
import type { ChartPlan } from './charts.ts';
import { rowAnchor, rowSection } from './details.ts';
import {
  bestPerColumn,
  cellInterval,
  cellText,
  cellValue,
  DIRECTION_MARK,
  DIRECTION_TEXT,
  escapeHtml,
  formatHalfWidth,
  formatValue,
  NOT_APPLICABLE,
  type Series,
  seriesOf,
} from './format.ts';
import { SEARCH_HEADINGS, searchCells, searchLines } from './search.ts';
import { CSS, SORT_SCRIPT } from './styles.ts';
import { studyFacts } from './text.ts';

/** A chart as the page receives it: its plan and, when there was something to draw, its SVG. */
export interface RenderedChart {
  plan: ChartPlan;
  /** Inline SVG (already id-prefixed and namespace-free), or null with plan.reason set. */
  svg: string | null;
}

/** The number the sort script orders by: smaller is better, whatever the column's direction. */
function sortKey(col: Column, v: number | null, oracleValue: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  if (col.direction === 'higher') return String(-v);
  if (col.direction === 'lower') return String(v);
  return oracleValue === null ? '' : String(Math.abs(v - oracleValue));
}

function headerCell(col: Column): string {
  const tip = `${col.description} (${DIRECTION_TEXT[col.direction]})`;
  return (
    `<th scope="col" data-key="${escapeHtml(col.key)}" title="${escapeHtml(tip)}">` +
    `<button type="button"><abbr title="${escapeHtml(tip)}">${escapeHtml(col.label)}</abbr>` +
    `<span class="dir" aria-label="${escapeHtml(DIRECTION_TEXT[col.direction])}">${DIRECTION_MARK[col.direction]}</span></button></th>`
  );
}

function valueCell(summary: Summary, col: Column, row: RunRow, isBest: boolean, ref: boolean): string {
  const v = cellValue(row, col.key);
  const text = cellText(row, col);
  const oracleValue = cellValue(summary.references.oracle, col.key);
  const ci = cellInterval(row, col.key);
  const classes = ['num'];
  let title = '';
  if (v === null) {
    classes.push(text === NOT_APPLICABLE ? 'na' : 'missing');
    title = row.notes[col.key] ?? 'not measured';
  } else if (
    col.direction === 'closer-to-oracle' &&
    oracleValue !== null &&
    row !== summary.references.oracle
  ) {
    const d = v - oracleValue;
    title = `${d >= 0 ? '+' : '−'}${formatValue(Math.abs(d), col.format)} from the oracle's ${formatValue(oracleValue, col.format)}`;
  }
  if (v !== null && ci) {
    const range = `${formatValue(ci.lo, col.format)} – ${formatValue(ci.hi, col.format)}`;
    const iv = row.seeds ? `mean ± sd over seeds ${row.seeds.join(', ')}: ${range}` : `95% interval ${range}`;
    title = title ? `${iv} · ${title}` : iv;
  }
  const basis = v !== null ? row.basis?.[col.key] : undefined;
  if (basis) title = title ? `${title} · ${basis}` : basis;
  if (isBest && !ref) {
    classes.push('best');
    title = title
      ? `best in column, beyond the uncertainty · ${title}`
      : 'best in column, beyond the uncertainty';
  }
  const pm = v !== null && ci ? `<span class="ci">${escapeHtml(formatHalfWidth(ci, col.format))}</span>` : '';
  const star = isBest && !ref ? '<span class="star" aria-label="best in column">★</span>' : '';
  const sort = ref ? '' : ` data-sort="${sortKey(col, v, oracleValue)}"`;
  const titleAttr = title ? ` title="${escapeHtml(title)}"` : '';
  return `<td class="${classes.join(' ')}"${sort}${titleAttr}>${escapeHtml(text)}${pm}${star}</td>`;
}

export function leaderboardHtml(summary: Summary, series: Series[]): string {
  const best = bestPerColumn(summary);
  const cols = summary.columns;
  const row = (s: Series, index: number): string => {
    const ref = s.role !== 'run';
    const tag = ref ? '<span class="tag">ref</span>' : '';
    const warns = s.row.warnings ?? [];
    const warn =
      warns.length > 0
        ? `<span class="warn" title="${escapeHtml(warns.join('\n'))}" aria-label="warnings">⚠</span>`
        : '';
    const cells = cols.map((c) => valueCell(summary, c, s.row, best.get(c.key)?.has(s.row.id) ?? false, ref));
    return (
      `<tr class="${ref ? `ref ref-${s.role}` : 'run'}" data-id="${escapeHtml(s.row.id)}">` +
      `<td class="name" data-sort="${escapeHtml(s.name)}"><span class="swatch" style="background:${s.colour}" aria-hidden="true"></span>` +
      `<a href="#${rowAnchor(index, s.row)}">${escapeHtml(s.name)}</a>${tag}${warn}</td>` +
      `<td class="method" data-sort="${escapeHtml(s.row.method)}">${ref ? 'reference' : escapeHtml(s.row.method)}</td>${cells.join('')}</tr>`
    );
  };
  const refs = series.map((s, i) => (s.role === 'run' ? '' : row(s, i))).join('\n');
  const runs = series.map((s, i) => (s.role === 'run' ? row(s, i) : '')).join('\n');
  const emptyRuns =
    summary.runs.length === 0
      ? `<tr><td colspan="${cols.length + 2}" class="muted">No unlearning runs in this study.</td></tr>`
      : '';
  const head =
    '<th scope="col" class="name"><button type="button">Run</button></th>' +
    '<th scope="col" class="method"><button type="button">Method</button></th>' +
    cols.map(headerCell).join('');
  return `<div class="scroll"><table class="leaderboard" id="leaderboard-table">
<thead><tr>${head}</tr></thead>
<tbody class="refs">
${refs}
</tbody>
<tbody class="runs">
${runs}${emptyRuns}
</tbody>
</table></div>`;
}

function legendHtml(summary: Summary): string {
  const dirs = [...new Set(summary.columns.map((c) => c.direction))];
  const items = dirs.map((d) => `<span><b>${DIRECTION_MARK[d]}</b> ${escapeHtml(DIRECTION_TEXT[d])}</span>`);
  items.push(
    '<span><b>★</b> best run in the column, marked only when it beats every other run by more than the uncertainty (non-overlapping 95% intervals; without intervals, a different printed value): no mark on ties or noise; reference rows are not ranked</span>',
  );
  items.push(
    '<span><b>±</b> half-width of the 95% bootstrap interval over items (hover for the interval); for a run of several seeds, mean ± sd across seeds</span>',
  );
  items.push('<span><b>n/a</b> the metric does not apply to the row (reason below and on hover)</span>');
  items.push('<span><b>—</b> skipped or not measured (hover for the reason)</span>');
  items.push('<span>Click a header to sort the runs.</span>');
  const rows = [summary.references.target, summary.references.oracle, ...summary.runs];
  const warnings = rows.flatMap((r) =>
    (r.warnings ?? []).map((w) => `<li><b>${escapeHtml(r.label || r.id)}</b> · ⚠ ${escapeHtml(w)}</li>`),
  );
  const notes = rows.flatMap((r) =>
    Object.entries(r.notes).map(
      ([k, note]) =>
        `<li><b>${escapeHtml(r.label || r.id)}</b> · ${escapeHtml(summary.columns.find((c) => c.key === k)?.label ?? k)}: ${escapeHtml(note)}</li>`,
    ),
  );
  const columns = summary.columns
    .map(
      (c) =>
        `<dt>${escapeHtml(c.label)} ${DIRECTION_MARK[c.direction]}</dt><dd>${escapeHtml(c.description)} — ${escapeHtml(DIRECTION_TEXT[c.direction])}</dd>`,
    )
    .join('');
  return (
    `<div class="legend">${items.join('')}</div>` +
    (warnings.length > 0 ? `<ul class="notes warnings">${warnings.join('')}</ul>` : '') +
    (notes.length > 0 ? `<ul class="notes">${notes.join('')}</ul>` : '') +
    `<details class="columns"><summary>What the columns mean</summary><dl>${columns}</dl></details>`
  );
}

function chartHtml(chart: RenderedChart): string {
  const { plan, svg } = chart;
  if (!svg) {
    return `<section id="plot-${plan.name}"><h3>${escapeHtml(plan.title)}</h3><p class="no-plot">Not drawn: ${escapeHtml(plan.reason ?? 'no data')}.</p></section>`;
  }
  const omitted =
    plan.omitted.length > 0
      ? ` <span class="omitted">Not shown: ${escapeHtml(plan.omitted.join('; '))}.</span>`
      : '';
  return `<section id="plot-${plan.name}">
<figure class="plot" data-plot="${plan.name}">
${svg}
<figcaption>${escapeHtml(plan.caption)}${omitted}</figcaption>
</figure>
</section>`;
}

/** The searches: a short table (one line per searched run) and each search's plot. */
function searchHtml(raw: Summary, charts: RenderedChart[]): string {
  const lines = searchLines(raw);
  if (lines.length === 0) return '';
  const head = SEARCH_HEADINGS.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = lines
    .map(
      (l) =>
        `<tr>${searchCells(l)
          .map((c) => `<td>${escapeHtml(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<section id="search-section">
<h2 id="search">Tuning without the oracle</h2>
<p class="lede">Each searched method chose its setting with the forget set, a holdout set and retain
data only: among settings that keep the utility floor on a validation part of retain, the one whose
forget-vs-holdout membership AUC is closest to 0.5. The oracle graded every setting afterwards, for
comparison only: the gap is how much forget quality the rule left on the table.</p>
<div class="scroll"><table class="search-table" id="search-table">
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>
${charts.map(chartHtml).join('\n')}
</section>`;
}

/** Search plots are named search-<run>; they go in their own section, the rest under Plots. */
const isSearchChart = (c: RenderedChart): boolean => c.plan.name.startsWith('search-');

export function renderHtml(summary: Summary, allCharts: RenderedChart[], raw: Summary = summary): string {
  const series = seriesOf(summary);
  const charts = allCharts.filter((c) => !isSearchChart(c));
  const search = searchHtml(raw, allCharts.filter(isSearchChart));
  const s = summary.study;
  const isTestData = /\btest data\b/i.test(s.description ?? '');
  const facts = studyFacts(summary)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`)
    .join('');
  const toc = [
    ['leaderboard', 'Leaderboard'],
    ...(search ? [['search', 'Tuning without the oracle']] : []),
    ...charts.map((c) => [`plot-${c.plan.name}`, c.plan.title]),
    ['details', 'Runs in detail'],
  ]
    .map(([id, label]) => `<a href="#${id}">${escapeHtml(label)}</a>`)
    .join('');
  const runSections = series
    .map((x, i) => ({ x, i }))
    .filter(({ x }) => x.role === 'run')
    .map(({ x, i }) => rowSection(summary, x, i))
    .join('\n');
  const refSections = series
    .map((x, i) => ({ x, i }))
    .filter(({ x }) => x.role !== 'run')
    .map(({ x, i }) => rowSection(summary, x, i))
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lethe ${escapeHtml(s.lethe)}">
<title>${escapeHtml(s.name)} · lethe study report</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>Study ${escapeHtml(s.name)}</h1>
${s.description ? `<p class="lede">${isTestData ? '<span class="test-data">test data</span> ' : ''}${escapeHtml(s.description)}</p>` : ''}
<dl class="facts">${facts}</dl>
<nav class="toc" aria-label="Contents">${toc}</nav>
</header>

<section id="leaderboard-section">
<h2 id="leaderboard">Leaderboard</h2>
<p class="lede">One row per unlearning run, with the target (before unlearning) and the oracle (retrained
without the forget set) as reference rows on top. The aim is to look like the oracle while keeping the
target's utility.</p>
${leaderboardHtml(summary, series)}
${legendHtml(summary)}
</section>
${search}

<section id="plots">
<h2>Plots</h2>
${charts.map(chartHtml).join('\n')}
</section>

<section id="details">
<h2>Runs in detail</h2>
${runSections || '<p class="muted">No unlearning runs in this study.</p>'}
<h2>Reference models</h2>
${refSections}
</section>

<footer>Generated by lethe ${escapeHtml(s.lethe)} from the study summary (format ${escapeHtml(summary.format)}).
This page is a single self-contained file: it needs no network connection.</footer>
</main>
<script>${SORT_SCRIPT}</script>
</body>
</html>
`;
}
