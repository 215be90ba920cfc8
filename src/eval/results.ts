/**
 * The results file of `lethe eval`: its zod schema, an atomic writer and a validating reader.
 *
 * Shape (format 'lethe-eval/1'):
 *   task, suite, metric list, options    what was evaluated and how (enough to reproduce it)
 *   models.{unlearned, oracle?, target?} where each model came from, its input transform, size,
 *                                         warnings about fitted inputs, and the evaluation's own
 *                                         token counts and forward FLOPs estimate
 *   metrics.<name>                       label, direction, format, summary (from the registry), then
 *                                         per model either { value, ci?, perItem?, extra? }, { skipped: reason } or
 *                                         { failed: message }, side by side
 *   closeness                            the gap-left summary (closeness.ts) or { skipped: reason }
 *   notes                                run-level remarks (task mismatch, missing robustness hook, ...)
 *   timings                              wall-clock seconds, kept apart so that everything else is
 *                                         byte-identical across runs with the same seed and threads
 * Non-finite numbers are written as null (JSON has no NaN).
 *
 * Promises: writeResults validates before writing and writes atomically; readResults names the file
 * and the first offending key path on any problem (not JSON, wrong format, a bad field).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { writeJsonAtomic } from '../io/atomic.ts';

export const RESULTS_FORMAT = 'lethe-eval/1';

const num = z.number().nullable();

export const SeriesSchema = z
  .strictObject({ ids: z.array(z.string()), values: z.array(num) })
  .refine((s) => s.ids.length === s.values.length, { message: 'ids and values differ in length' });

export const IntervalSchema = z.strictObject({
  lo: num,
  hi: num,
  level: z.number().gt(0).lt(1),
  method: z.string(),
  resamples: z.int().nonnegative(),
  items: z.int().nonnegative(),
});

export const FormatSchema = z.union([
  z.int().min(0).max(10),
  z.enum(['pct', 'sci', 'seconds', 'mb', 'count']),
]);

export const MetricResultSchema = z.union([
  z.strictObject({
    value: num,
    ci: IntervalSchema.optional(),
    perItem: z.record(z.string(), SeriesSchema).optional(),
    extra: z.record(z.string(), z.json()).optional(),
  }),
  z.strictObject({ skipped: z.string().min(1) }),
  z.strictObject({ failed: z.string().min(1) }),
]);
export type MetricResult = z.infer<typeof MetricResultSchema>;

export const RoleSchema = z.enum(['unlearned', 'oracle', 'target']);

export const MetricEntrySchema = z.strictObject({
  label: z.string(),
  direction: z.enum(['higher', 'lower', 'closer-to-oracle']),
  format: FormatSchema,
  summary: z.string(),
  unlearned: MetricResultSchema,
  oracle: MetricResultSchema.optional(),
  target: MetricResultSchema.optional(),
});
export type MetricEntry = z.infer<typeof MetricEntrySchema>;

export const ModelInfoSchema = z.strictObject({
  /** Folder the model was loaded from; null for an in-memory model. */
  dir: z.string().nullable(),
  /** Kind of the input transform applied to every prompt (icul, guardrail), or null. */
  transform: z.string().nullable(),
  /** The unlearning method named by the folder's manifest, or null. */
  method: z.string().nullable(),
  parameters: z.int().nonnegative(),
  /** Inputs fitted to the context, with counts. */
  warnings: z.record(z.string(), z.int().nonnegative()),
  /** What this evaluation ran through the model, and 2·N·forward + 6·N·backward tokens. */
  cost: z.strictObject({
    forwardTokens: z.int().nonnegative(),
    backwardTokens: z.int().nonnegative(),
    generatedTokens: z.int().nonnegative(),
    flops: z.number().nonnegative(),
    formula: z.string(),
  }),
});
export type ModelInfo = z.infer<typeof ModelInfoSchema>;

const ClosenessEntrySchema = z.strictObject({
  gapLeft: num,
  distance: num,
  /** Half-widths of the target's and the oracle's intervals summed (null without intervals). */
  uncertainty: num.optional(),
  included: z.boolean(),
  reason: z.string().optional(),
});

export const ClosenessSchema = z.union([
  z.strictObject({
    definition: z.string(),
    mean: num,
    median: num,
    included: z.int().nonnegative(),
    considered: z.int().nonnegative(),
    metrics: z.record(z.string(), ClosenessEntrySchema),
  }),
  z.strictObject({ skipped: z.string().min(1) }),
]);

export const EvalResultsSchema = z.strictObject({
  format: z.literal(RESULTS_FORMAT),
  lethe: z.string(),
  environment: z.strictObject({ backend: z.string(), threads: z.int().positive() }),
  task: z.strictObject({ spec: z.string(), name: z.string(), hash: z.string() }),
  suite: z.string(),
  metricNames: z.array(z.string()),
  options: z.record(z.string(), z.json()),
  models: z.strictObject({
    unlearned: ModelInfoSchema,
    oracle: ModelInfoSchema.optional(),
    target: ModelInfoSchema.optional(),
  }),
  metrics: z.record(z.string(), MetricEntrySchema),
  closeness: ClosenessSchema,
  notes: z.array(z.string()),
  timings: z.strictObject({
    seconds: z.number().nonnegative(),
    models: z.record(
      z.string(),
      z.strictObject({
        loadSeconds: z.number().nonnegative(),
        metrics: z.record(z.string(), z.number().nonnegative()),
      }),
    ),
  }),
});
export type EvalResults = z.infer<typeof EvalResultsSchema>;

function issueError(error: z.ZodError, where: string, summary: string): ConfigError {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.') || '(root)';
  return new ConfigError(summary, { where: `${where}: ${path}`, found: issue.message });
}

/** Validate a results object (throws a ConfigError naming the key path). */
export function parseResults(value: unknown, where = 'results'): EvalResults {
  const parsed = EvalResultsSchema.safeParse(value);
  if (!parsed.success) throw issueError(parsed.error, where, 'invalid evaluation results');
  return parsed.data;
}

/** Read and validate a results file. */
export function readResults(path: string): EvalResults {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError('cannot read the results file', {
      where: path,
      found: (e as NodeJS.ErrnoException).code ?? String(e),
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('the results file is not valid JSON', { where: path, found: (e as Error).message });
  }
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== RESULTS_FORMAT) {
    throw new ConfigError('not a lethe evaluation results file', {
      where: `${path}: format`,
      expected: JSON.stringify(RESULTS_FORMAT),
      found: JSON.stringify(format ?? null),
    });
  }
  return parseResults(value, path);
}

/** Validate and write atomically (2-space JSON). */
export async function writeResults(path: string, results: EvalResults): Promise<void> {
  await writeJsonAtomic(path, parseResults(results, path), { indent: 2 });
}
