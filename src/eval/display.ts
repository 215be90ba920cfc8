/**
 * How metric facts from the registry are shown, in one place for every output (the terminal
 * table of `lethe eval`, the study's terminal leaderboard, summary.md, the HTML report, README's
 * metric table): the direction marks and words, and the printing of a value per its MetricFormat.
 */
import type { Direction, MetricFormat } from './types.ts';

/** What a missing or skipped value prints as, everywhere. */
export const MISSING = '—';

/** What a metric that does not apply prints as (its reason goes beside it). */
export const NOT_APPLICABLE = 'n/a';

/** Short marks for the directions; legends explain them in words. */
export const DIRECTION_MARK: Record<Direction, string> = {
  higher: '↑',
  lower: '↓',
  'closer-to-oracle': '◎',
};

export const DIRECTION_TEXT: Record<Direction, string> = {
  higher: 'higher is better',
  lower: 'lower is better',
  'closer-to-oracle': "closer to the oracle's value is better",
};

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

/** An integer count with a k/M/B suffix: 12582912 -> "12.6M". */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1e3) return String(n);
  if (abs < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (abs < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}

/** Formats one value per a metric's format; null (not applicable or skipped) prints as "—". */
export function formatValue(value: number | null | undefined, format: MetricFormat): string {
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
    case 'count':
      return formatCount(value);
  }
}

/** "± h" for a 95% interval [lo, hi] printed with the value's format (half its width). */
export function formatHalfWidth(ci: { lo: number; hi: number }, format: MetricFormat): string {
  const h = (ci.hi - ci.lo) / 2;
  return `± ${formatValue(h, typeof format === 'number' ? format : format === 'sci' ? 'sci' : format)}`;
}
