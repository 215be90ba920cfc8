/**
 * The leaderboard for terminals and Markdown readers: `summary.md` (study facts + a Markdown table,
 * best values in bold) and `renderLeaderboardText` (an aligned plain-text table, best values
 * starred, for printing to a terminal). Same rows, order and numbers as the HTML report.
 */
import type { Column, RunRow, Summary } from '../study/study-schema.ts';
import {
  allRows,
  bestPerColumn,
  cellInterval,
  cellText,
  DIRECTION_MARK,
  DIRECTION_TEXT,
  formatHalfWidth,
  isReference,
} from './format.ts';
import { costText, SEARCH_HEADINGS, searchCells, searchLines } from './search.ts';
import { forDisplay } from './seeds.ts';

/** A cell's value with "± half-width" of its 95% interval, when it has one. */
export function cellWithInterval(row: RunRow, col: Column): string {
  const text = cellText(row, col);
  const ci = cellInterval(row, col.key);
  return ci && Number.isFinite(ci.lo) && text !== '—' && text !== 'n/a'
    ? `${text} ${formatHalfWidth(ci, col.format)}`
    : text;
}

/** Table cells must stay on one line and must not close the cell early. */
function mdCell(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;'))
    .replace(/([*_`[\]])/g, '\\$1');
}

function rowName(summary: Summary, row: RunRow): string {
  if (row === summary.references.target) return `${row.label || 'target'} (reference: before unlearning)`;
  if (row === summary.references.oracle)
    return `${row.label || 'oracle'} (reference: retrained without forget set)`;
  return row.label || row.id;
}

/** Study facts as "key: value" pairs, shared by the Markdown and text outputs. */
export function studyFacts(summary: Summary): [string, string][] {
  const s = summary.study;
  const facts: [string, string][] = [
    ['Task', `${s.task.name} (${s.task.spec}, data ${s.task.hash})`],
    ['Suites', s.suites.join(', ') || '—'],
    ['Seeds', s.seeds.join(', ') || '—'],
    ['Runs', String(summary.runs.length)],
    ['lethe', s.lethe],
    ['Node', s.node],
  ];
  return facts;
}

export function renderMarkdown(shown: Summary): string {
  const summary = forDisplay(shown);
  const best = bestPerColumn(summary);
  const cols = summary.columns;
  const lines: string[] = [];
  lines.push(`# Study ${mdCell(summary.study.name)}`, '');
  if (summary.study.description) lines.push(mdCell(summary.study.description), '');
  for (const [k, v] of studyFacts(summary)) lines.push(`- **${k}:** ${mdCell(v)}`);
  lines.push('', '## Leaderboard', '');
  lines.push(
    `| Run | Method | ${cols.map((c) => `${mdCell(c.label)} ${DIRECTION_MARK[c.direction]}`).join(' | ')} |`,
  );
  lines.push(`| --- | --- | ${cols.map(() => '---:').join(' | ')} |`);
  for (const row of allRows(summary)) {
    const ref = isReference(summary, row);
    const cells = cols.map((c) => {
      const text = mdCell(cellWithInterval(row, c));
      return !ref && best.get(c.key)?.has(row.id) ? `**${text}** ★` : text;
    });
    const name = ref ? `_${mdCell(rowName(summary, row))}_` : mdCell(rowName(summary, row));
    lines.push(`| ${name} | ${mdCell(row.method)} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push(
    'Bold ★: the best run in the column, marked only when it beats every other run by more than the ' +
      'uncertainty (non-overlapping 95% intervals; without intervals, a different printed value), so ' +
      'ties and noise get no mark; references are not ranked. ± half-width of the 95% bootstrap ' +
      'interval over items; for a run of several seeds, mean ± sd across seeds. n/a: the metric does not apply to the row (reason under Notes). ' +
      `${DIRECTION_MARK.higher} ${DIRECTION_TEXT.higher}; ${DIRECTION_MARK.lower} ${DIRECTION_TEXT.lower}; ` +
      `${DIRECTION_MARK['closer-to-oracle']} ${DIRECTION_TEXT['closer-to-oracle']}. — not applicable or skipped.`,
    '',
    '### Columns',
    '',
  );
  for (const c of cols)
    lines.push(`- **${mdCell(c.label)}** (${DIRECTION_TEXT[c.direction]}): ${mdCell(c.description)}`);
  const skipped = allRows(summary).flatMap((row) =>
    Object.entries(row.notes).map(
      ([key, note]) => `- ${mdCell(rowName(summary, row))} · ${mdCell(key)}: ${mdCell(note)}`,
    ),
  );
  const warnings = allRows(summary).flatMap((row) =>
    (row.warnings ?? []).map((w) => `- ${mdCell(rowName(summary, row))}: ${mdCell(w)}`),
  );
  if (warnings.length > 0) lines.push('', '### Warnings', '', ...warnings);
  if (skipped.length > 0) lines.push('', '### Notes', '', ...skipped);
  const bases = allRows(summary).flatMap((row) =>
    Object.entries(row.basis ?? {})
      .filter(([key]) => cols.some((c) => c.key === key))
      .map(([key, b]) => `- ${mdCell(rowName(summary, row))} · ${mdCell(key)}: ${mdCell(b)}`),
  );
  if (bases.length > 0) lines.push('', '### What the values rest on', '', ...bases);
  const searches = searchLines(shown);
  if (searches.length > 0) {
    lines.push(
      '',
      '## Tuning without the oracle',
      '',
      'Each searched method chose its setting without the oracle: among settings keeping the utility ' +
        'floor on a validation part of retain, the one whose forget-vs-holdout membership AUC is closest ' +
        'to 0.5. The oracle graded every setting afterwards, for comparison only; the gap is its ' +
        "choice's forget quality minus the rule's.",
      '',
      `| ${SEARCH_HEADINGS.join(' | ')} |`,
      `| ${SEARCH_HEADINGS.map(() => '---').join(' | ')} |`,
      ...searches.map((l) => `| ${searchCells(l).map(mdCell).join(' | ')} |`),
    );
  }
  const costs = summary.runs.flatMap((row) => {
    const text = costText(row);
    return text ? [`- ${mdCell(rowName(summary, row))}: ${mdCell(text)}`] : [];
  });
  if (costs.length > 0) lines.push('', "### Cost against retraining (the oracle's training)", '', ...costs);
  lines.push('');
  return lines.join('\n');
}

/** Display width of a string, counting code points (the labels are mostly Latin and Greek). */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, w: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(text)));
  return right ? fill + text : text + fill;
}

/** The leaderboard as an aligned plain-text table; best run values carry a trailing '*'. */
export function renderLeaderboardText(shown: Summary): string {
  const summary = forDisplay(shown);
  const best = bestPerColumn(summary);
  const cols = summary.columns;
  const header = ['Run', ...cols.map((c) => `${c.label} ${DIRECTION_MARK[c.direction]} `)];
  const body = allRows(summary).map((row) => {
    const ref = isReference(summary, row);
    const name = ref
      ? `(${row === summary.references.target ? 'target' : 'oracle'}) ${row.label}`
      : row.label;
    return [
      `${(name || row.id).replace(/\s+/g, ' ')}${(row.warnings ?? []).length > 0 ? ' ⚠' : ''}`,
      ...cols.map((c) => {
        const text = cellWithInterval(row, c);
        return !ref && best.get(c.key)?.has(row.id) ? `${text}*` : `${text} `;
      }),
    ];
  });
  const widths = header.map((h, i) => Math.max(width(h), ...body.map((r) => width(r[i]))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => pad(c, widths[i], i > 0))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const out = [`Study ${summary.study.name} · ${summary.study.task.name}`, line(header), rule];
  body.forEach((r, i) => {
    out.push(line(r));
    if (i === 1) out.push(rule);
  });
  out.push(
    `* best run per column, beyond the uncertainty · ± 95% interval · ${DIRECTION_MARK.higher} higher · ` +
      `${DIRECTION_MARK.lower} lower · ${DIRECTION_MARK['closer-to-oracle']} closer to oracle · n/a not applicable · — skipped`,
  );
  for (const row of allRows(summary))
    for (const w of row.warnings ?? []) out.push(`⚠ ${row.label || row.id}: ${w}`);
  return `${out.join('\n')}\n`;
}
