/**
 * Pure helpers shared by every report output (HTML, Markdown, terminal): reading a column's value
 * from a row, formatting it per the column's `format`, choosing the best run per column, naming and
 * colouring rows the same way in every chart, and escaping text for HTML. No I/O here, so the
 * unit tests can pin every rule down exactly.
 */
import type { Column, RunRow, Summary } from '../study/study-schema.ts';

/** What a missing or skipped value prints as, everywhere. */
export const MISSING = '—';

/** Short arrows for the directions; the legend explains them in words. */
export const DIRECTION_MARK: Record<Column['direction'], string> = {
  higher: '↑',
  lower: '↓',
  'closer-to-oracle': '◎',
};

export const DIRECTION_TEXT: Record<Column['direction'], string> = {
  higher: 'higher is better',
  lower: 'lower is better',
  'closer-to-oracle': "closer to the oracle's value is better",
};

/**
 * The value of `column` for `row`. The study runner copies timings into `metrics`, but a summary
 * written without them still has `timings`, so the two timing columns fall back to it rather than
 * printing a blank for a number the file does hold.
 */
export function cellValue(row: RunRow, key: string): number | null {
  if (Object.hasOwn(row.metrics, key)) return row.metrics[key] ?? null;
  if (key === 'seconds') return row.timings.seconds;
  if (key === 'peakRssMb') return row.timings.peakRssMb;
  return null;
}

/** Drops the sign of a value that rounds to zero, so "-0.0" never appears in a table. */
function unsignZero(text: string): string {
  return /^-0(\.0+)?(e[+-]?\d+)?$/.test(text) || /^-0(\.0+)?%$/.test(text) ? text.slice(1) : text;
}

function formatSeconds(s: number): string {
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  if (h === 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${h}h ${String(m).padStart(2, '0')}m`;
}

function formatMb(mb: number): string {
  // GB from 10 GB up: below that MB keep the digits that tell two methods apart.
  if (mb < 10 * 1024) return `${Math.round(mb).toLocaleString('en-US')} MB`;
  return `${(mb / 1024).toFixed(1)} GB`;
}

/** Formats one value per a column's `format`; null (not applicable or skipped) prints as "—". */
export function formatValue(value: number | null | undefined, format: Column['format']): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  if (typeof format === 'number') return unsignZero(value.toFixed(format));
  switch (format) {
    case 'pct':
      return unsignZero(`${(value * 100).toFixed(1)}%`);
    case 'sci':
      return value === 0 ? '0' : unsignZero(value.toExponential(2));
    case 'seconds':
      return formatSeconds(value);
    case 'mb':
      return formatMb(value);
  }
}

/** An integer count with a k/M/B suffix: 12582912 -> "12.6M". */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1e3) return String(n);
  if (abs < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (abs < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}

/**
 * The ids of the best run(s) in each column, over the runs only: the target and the oracle are
 * yardsticks, not contenders. Ties share the mark. For 'closer-to-oracle' the best is the smallest
 * |value − oracle value|; without an oracle value nothing can be closest, so nothing is marked.
 * Distances are compared after rounding to 12 significant digits so that float noise in the
 * subtraction does not break an honest tie.
 */
export function bestPerColumn(summary: Summary): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const oracle = summary.references.oracle;
  for (const col of summary.columns) {
    const target = col.direction === 'closer-to-oracle' ? cellValue(oracle, col.key) : null;
    if (col.direction === 'closer-to-oracle' && target === null) {
      out.set(col.key, new Set());
      continue;
    }
    const score = (v: number): number => {
      if (col.direction === 'higher') return -v;
      if (col.direction === 'lower') return v;
      return Number(Math.abs(v - (target as number)).toPrecision(12));
    };
    let best = Number.POSITIVE_INFINITY;
    let ids = new Set<string>();
    for (const run of summary.runs) {
      const v = cellValue(run, col.key);
      if (v === null || !Number.isFinite(v)) continue;
      const s = score(v);
      if (s < best) {
        best = s;
        ids = new Set([run.id]);
      } else if (s === best) ids.add(run.id);
    }
    out.set(col.key, ids);
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
