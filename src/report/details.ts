/**
 * The per-row detail sections of the HTML report: arguments, every metric (with the reason for each
 * skipped one), cost (time, memory, trainable parameters) and example generations before (target)
 * and after (this run) side by side, matched by question. All text passes through escapeHtml:
 * generations are model output and can contain anything, markup included.
 */
import type { RunRow, Summary } from '../study/study-schema.ts';
import { escapeHtml, formatArg, formatCount, formatValue, MISSING, type Series } from './format.ts';
import { formatShare } from './search.ts';

type Example = RunRow['examples'][number];

/** A stable, HTML-id-safe anchor for a row (ids can hold any characters). */
export function rowAnchor(index: number, row: RunRow): string {
  const slug = row.id.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 60);
  return `row-${index}-${slug}`;
}

function swatch(colour: string): string {
  return `<span class="swatch" style="background:${colour}" aria-hidden="true"></span>`;
}

/** A metric without a column has no declared format: four significant digits say enough. */
function formatLoose(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return MISSING;
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

function argsTable(row: RunRow): string {
  const entries = Object.entries(row.args);
  if (entries.length === 0) return '<p class="muted">No arguments.</p>';
  const body = entries
    .map(
      ([k, v]) =>
        `<tr><th scope="row">${escapeHtml(k)}</th><td><code>${escapeHtml(formatArg(v))}</code></td></tr>`,
    )
    .join('');
  return `<table class="kv">${body}</table>`;
}

function metricsTable(summary: Summary, row: RunRow): string {
  const byKey = new Map(summary.columns.map((c) => [c.key, c]));
  // Timings are in the Cost table beside this one; listing them twice would only add noise.
  const keys = [...new Set([...Object.keys(row.metrics), ...Object.keys(row.notes)])].filter(
    (k) => k !== 'seconds' && k !== 'peakRssMb',
  );
  if (keys.length === 0) return '<p class="muted">No metrics recorded.</p>';
  const body = keys
    .map((k) => {
      const col = byKey.get(k);
      const v = row.metrics[k] ?? null;
      const text = col ? formatValue(v, col.format) : formatLoose(v);
      const note = row.notes[k] ?? row.basis?.[k];
      const label = col ? col.label : k;
      const noteHtml = note ? `<div class="note">${escapeHtml(note)}</div>` : '';
      return (
        `<tr${v === null ? ' class="skipped"' : ''}><th scope="row" title="${escapeHtml(k)}">${escapeHtml(label)}</th>` +
        `<td class="num">${escapeHtml(text)}${noteHtml}</td></tr>`
      );
    })
    .join('');
  return `<table class="kv">${body}</table>`;
}

function costTable(summary: Summary, row: RunRow): string {
  const total = summary.references.target.trainableParameters;
  const params =
    row.trainableParameters === 0
      ? '0 (no gradient training)'
      : `${formatCount(row.trainableParameters)}` +
        (total > 0 && row !== summary.references.target
          ? ` (${((100 * row.trainableParameters) / total).toFixed(total === row.trainableParameters ? 0 : 2)}% of the target's)`
          : '');
  const lines: [string, string][] = [
    ['Wall time', formatValue(row.timings.seconds, 'seconds')],
    ['Peak memory', formatValue(row.timings.peakRssMb, 'mb')],
    ['Trainable parameters', params],
    ['Seed', String(row.seed)],
  ];
  if (row.curves.step.length > 0) lines.push(['Logged steps', String(row.curves.step.length)]);
  const c = row.costVsOracle;
  if (c) {
    lines.push(["Time vs the oracle's training", formatShare(c.time)]);
    lines.push(["FLOPs vs the oracle's training", formatShare(c.flops)]);
    if (c.withSearch !== undefined) lines.push(['Time with the search', formatShare(c.withSearch)]);
  }
  return `<table class="kv">${lines
    .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td class="num">${escapeHtml(v)}</td></tr>`)
    .join('')}</table>`;
}

function generation(text: string | undefined): string {
  if (text === undefined) return `<span class="muted">${MISSING} (not asked)</span>`;
  if (text.trim() === '') return '<span class="muted">(empty output)</span>';
  return `<div class="gen">${escapeHtml(text)}</div>`;
}

const key = (e: Example): string => `${e.split}\u0000${e.question}`;

/**
 * Example generations of `row`, each beside the target's answer to the same question (before) and
 * the oracle's (what retraining gives). Questions are matched by split and exact text; a question
 * the target was not asked shows "not asked" rather than a wrong pairing.
 */
function examplesTable(summary: Summary, row: RunRow, role: Series['role']): string {
  if (row.examples.length === 0) return '<p class="muted">No example generations recorded.</p>';
  const target = new Map(summary.references.target.examples.map((e) => [key(e), e]));
  const oracle = new Map(summary.references.oracle.examples.map((e) => [key(e), e]));
  const compare = role === 'run';
  const head = compare
    ? '<th scope="col">Question</th><th scope="col">Before: target</th><th scope="col">After: this run</th><th scope="col">Oracle (retrained)</th>'
    : '<th scope="col">Question</th><th scope="col">Generated</th>';
  const ordered = [
    ...row.examples.filter((e) => e.split === 'forget'),
    ...row.examples.filter((e) => e.split !== 'forget'),
  ];
  const body = ordered
    .map((e) => {
      const q =
        `<td class="q"><span class="split split-${e.split}">${e.split}</span> ${escapeHtml(e.question)}` +
        `<div class="answer"><span class="muted">reference answer:</span> ${escapeHtml(e.answer)}</div></td>`;
      if (!compare) return `<tr>${q}<td>${generation(e.generated)}</td></tr>`;
      return (
        `<tr>${q}<td>${generation(target.get(key(e))?.generated)}</td>` +
        `<td class="after">${generation(e.generated)}</td><td>${generation(oracle.get(key(e))?.generated)}</td></tr>`
      );
    })
    .join('');
  return `<div class="scroll"><table class="examples${compare ? ' compare' : ''}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** One detail section for a row of the leaderboard. */
export function rowSection(summary: Summary, s: Series, index: number): string {
  const row = s.row;
  const what =
    s.role === 'target'
      ? 'reference · the model trained on forget + retain, before unlearning'
      : s.role === 'oracle'
        ? 'reference · retrained on the retain set only: the goal'
        : `${escapeHtml(row.method)} · ${escapeHtml(row.kind)} method`;
  return `<section class="row-detail" id="${rowAnchor(index, row)}">
<h3>${swatch(s.colour)}${escapeHtml(s.name)}</h3>
<p class="meta">${what} · id <code>${escapeHtml(row.id)}</code></p>
<div class="detail-grid">
<div><h4>Arguments</h4>${argsTable(row)}</div>
<div><h4>Metrics</h4>${metricsTable(summary, row)}</div>
<div><h4>Cost</h4>${costTable(summary, row)}</div>
</div>
${
  (row.warnings ?? []).length > 0
    ? `<h4>Warnings</h4><ul class="notes warnings">${row.warnings!.map((w) => `<li>⚠ ${escapeHtml(w)}</li>`).join('')}</ul>`
    : ''
}
<h4>Example generations</h4>
${examplesTable(summary, row, s.role)}
</section>`;
}
