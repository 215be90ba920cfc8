/**
 * Reading a study summary back: runs/<study>/summary.json -> a validated `Summary`. Every failure
 * (missing file, bad JSON, schema mismatch) is a DataError that names the file and, for a schema
 * mismatch, the exact field (`runs[1].metrics.privLeak`, with the run's id) and what was expected.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { DataError } from '../errors.ts';
import { hasMetric } from '../eval/metrics/index.ts';
import { columnOf, type Summary, SummarySchema } from '../study/study-schema.ts';

/** How many schema problems to list before "and N more": enough to fix a file in one pass. */
const MAX_ISSUES = 8;

/** `["runs", 1, "metrics", "a b"]` -> `runs[1].metrics["a b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && /^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out || '(top level)';
}

/** Adds the run's id after `runs[i]` so the reader can find the row without counting. */
function withRunId(path: readonly PropertyKey[], data: unknown): string {
  const text = formatPath(path);
  if (path[0] !== 'runs' || typeof path[1] !== 'number') return text;
  const runs = (data as { runs?: unknown })?.runs;
  const id = Array.isArray(runs) ? (runs[path[1]] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === 'string' ? `${text} (run "${id}")` : text;
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
    return `${withRunId(issue.path, data)}: unknown key(s) ${keys}`;
  }
  return `${withRunId(issue.path, data)}: ${issue.message}`;
}

/**
 * The summary with every column of a registered metric described as the registry describes it
 * now (label, direction, format, description): the registry is the one source of those facts, so
 * a summary written before a metric's description changed still shows the current one.
 */
export function withRegistryColumns(summary: Summary): Summary {
  return { ...summary, columns: summary.columns.map((c) => (hasMetric(c.key) ? columnOf(c.key) : c)) };
}

/** Validates parsed JSON as a study summary; `source` names the file in the error. */
export function parseSummary(data: unknown, source: string): Summary {
  const result = SummarySchema.safeParse(data);
  if (result.success) return withRegistryColumns(result.data);
  const issues = result.error.issues;
  const lines = issues.slice(0, MAX_ISSUES).map((i) => describeIssue(i, data));
  if (issues.length > MAX_ISSUES) lines.push(`... and ${issues.length - MAX_ISSUES} more`);
  const format = (data as { format?: unknown })?.format;
  const hint =
    format !== 'lethe-study/1'
      ? `this lethe reads summaries with format "lethe-study/1" (found ${JSON.stringify(format)}); rerun the study with this version`
      : 'the file was not written by this version of `lethe bench`, or was edited by hand';
  throw new DataError(`invalid study summary ${source}`, {
    where: lines.length === 1 ? lines[0] : `\n    ${lines.join('\n    ')}`,
    expected: 'a lethe-study/1 summary (src/study/study-schema.ts)',
    hint,
  });
}

/** Reads and validates runs/<study>/summary.json. */
export function loadSummary(path: string): Summary {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read study summary ${path}`, {
      found: code === 'ENOENT' ? 'no such file' : (err as Error).message,
      hint: 'run the study first (`lethe bench`), which writes runs/<study>/summary.json',
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DataError(`study summary ${path} is not valid JSON`, {
      found: (err as Error).message,
      hint: 'the file may be truncated; rerun the study to rewrite it',
    });
  }
  return parseSummary(data, path);
}
