/**
 * Pure helpers shared by every report output (HTML, Markdown, terminal): reading a column's value
 * from a row, formatting it per the column's `format`, choosing the best run per column, naming and
 * colouring rows the same way in every chart, and escaping text for HTML. No I/O here, so the
 * unit tests can pin every rule down exactly.
 */

import { formatValue, MISSING, NOT_APPLICABLE } from '../eval/display.ts';
import type { Column, RunRow, Summary } from '../study/study-schema.ts';

export {
  DIRECTION_MARK,
  DIRECTION_TEXT,
  formatCount,
  formatHalfWidth,
  formatValue,
  MISSING,
  NOT_APPLICABLE,
} from '../eval/display.ts';

/**
 * The value of `column` for `row`. The study runner copies timings into `metrics`, but a summary
 * written without them still has `timings`, so the two timing columns fall back to it rather than
 * printing a blank for a number the file does hold.
 */
export function cellValue(row: RunRow, key: string): number | null {
  if (Object.hasOwn(row.metrics, key)) return row.metrics[key] ?? null;
  if (key === 'efficiency.seconds') return row.timings.seconds;
  if (key === 'efficiency.peakMemoryMb') return row.timings.peakRssMb;
  return null;
}

/** The 95% interval of a row's value in a column, when the summary holds one. */
export function cellInterval(row: RunRow, key: string): { lo: number; hi: number } | null {
  return row.intervals?.[key] ?? null;
}

/**
 * The text of a cell: the value per the column's format, "n/a" for a metric that does not apply
 * to this row (its note starts with "n/a"; the reason is shown beside or on hover), else "—".
 */
export function cellText(row: RunRow, col: Column): string {
  const v = cellValue(row, col.key);
  if (v === null || !Number.isFinite(v))
    return /^n\/a\b/.test(row.notes[col.key] ?? '') ? NOT_APPLICABLE : MISSING;
  return formatValue(v, col.format);
}

/**
 * The id of the best run in each column (an empty set where no run is best), over the runs only:
 * the target and the oracle are yardsticks, not contenders. A run is best only when it beats every
 * other run by more than the uncertainty: with 95% intervals on both values, the intervals must
 * not overlap (for 'closer-to-oracle', its distance to the oracle must be smaller than the other's
 * by more than the two half-widths summed); without intervals, the printed values must differ.
 * So ties, constant columns, a single run and values within noise get no mark. For
 * 'closer-to-oracle' the score is |value − oracle value|; without an oracle value nothing is marked.
 */
export function bestPerColumn(summary: Summary): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const oracle = summary.references.oracle;
  for (const col of summary.columns) {
    out.set(col.key, new Set());
    const o = col.direction === 'closer-to-oracle' ? cellValue(oracle, col.key) : null;
    if (col.direction === 'closer-to-oracle' && o === null) continue;
    const score = (v: number): number =>
      col.direction === 'higher' ? -v : col.direction === 'lower' ? v : Math.abs(v - (o as number));
    const cands = summary.runs
      .map((run) => ({ run, v: cellValue(run, col.key), ci: cellInterval(run, col.key) }))
      .filter(
        (c): c is { run: RunRow; v: number; ci: { lo: number; hi: number } | null } =>
          c.v !== null && Number.isFinite(c.v),
      )
      .sort((a, b) => score(a.v) - score(b.v));
    if (cands.length < 2) continue;
    const [best, ...rest] = cands;
    const shown = (c: { v: number }) =>
      col.direction === 'closer-to-oracle'
        ? formatValue(score(c.v), col.format)
        : formatValue(c.v, col.format);
    const beats = (other: (typeof cands)[number]): boolean => {
      if (best.ci && other.ci) {
        if (col.direction === 'higher') return best.ci.lo > other.ci.hi;
        if (col.direction === 'lower') return best.ci.hi < other.ci.lo;
        const hw = (c: { lo: number; hi: number }) => (c.hi - c.lo) / 2;
        return score(other.v) - score(best.v) > hw(best.ci) + hw(other.ci);
      }
      return score(best.v) < score(other.v) && shown(best) !== shown(other);
    };
    if (rest.every(beats)) out.get(col.key)!.add(best.run.id);
  }
  return out;
}

/** Every row in display order: the two references first, then the runs as the runner listed them. */
export function allRows(summary: Summary): RunRow[] {
  return [summary.references.target, summary.references.oracle, ...summary.runs];
}

export function isReference(summary: Summary, row: RunRow): boolean {
  return row === summary.references.target || row === summary.references.oracle;
}

/** Colours for runs (Tableau-like, no greys: grey and black are the references' colours). */
const RUN_PALETTE = [
  '#4c78a8',
  '#f58518',
  '#54a24b',
  '#e45756',
  '#b279a2',
  '#72b7b2',
  '#d4a017',
  '#9d755d',
  '#ff9da6',
  '#17becf',
];
export const TARGET_COLOUR = '#222222';
export const ORACLE_COLOUR = '#8c8c8c';

/** How a row is named and coloured in every chart, so a method looks the same everywhere. */
export interface Series {
  row: RunRow;
  /** Unique display name (the row label, disambiguated by id if two rows share a label). */
  name: string;
  colour: string;
  role: 'target' | 'oracle' | 'run';
}

export function seriesOf(summary: Summary): Series[] {
  const rows = allRows(summary);
  const counts = new Map<string, number>();
  const baseName = (r: RunRow): string => r.label.trim() || r.method || r.id;
  for (const r of rows) counts.set(baseName(r), (counts.get(baseName(r)) ?? 0) + 1);
  return rows.map((row, i) => {
    const base = baseName(row);
    const name = (counts.get(base) ?? 0) > 1 ? `${base} [${row.id}]` : base;
    if (i === 0) return { row, name, colour: TARGET_COLOUR, role: 'target' };
    if (i === 1) return { row, name, colour: ORACLE_COLOUR, role: 'oracle' };
    return { row, name, colour: RUN_PALETTE[(i - 2) % RUN_PALETTE.length], role: 'run' };
  });
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML element content and quoted attribute values. Control characters other
 * than tab, newline and carriage return are shown as their Unicode control pictures (NUL -> ␀):
 * generated text can hold anything, and a raw control byte is invisible or breaks the page.
 */
export function escapeHtml(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (HTML_ESCAPES[ch]) out += HTML_ESCAPES[ch];
    else if (code === 0x7f) out += '\u2421';
    else if (code < 0x20 && ch !== '\t' && ch !== '\n' && ch !== '\r')
      out += String.fromCharCode(0x2400 + code);
    else out += ch;
  }
  return out;
}

/** A compact, readable rendering of an argument value (numbers as written, objects as JSON). */
export function formatArg(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return MISSING;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}
