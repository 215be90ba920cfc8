/**
 * The metric plugin shape and what a metric is given. A metric is a named pure function of a
 * model (through its ModelEval, which caches scored sequences and generations) and a task, with a
 * direction saying which way is better and `requires` naming the data it cannot do without.
 *
 * Promises: a metric either returns a number (null only where its doc comment says so, with a
 * note in `extra`) or is recorded as skipped with a reason (a failed requirement, or MetricSkip
 * thrown from compute). No metric prints or stores a fabricated number in place of missing data.
 */
import type { JsonValue, Task } from '../data/task.ts';
import type { ModelEval } from './model-eval.ts';
import type { EvalOptions } from './options.ts';

/**
 * Which way is better: 'closer-to-oracle' for forget-side quantities whose ideal is what the
 * retrained oracle shows (e.g. an MIA AUC near the oracle's, not as low as possible).
 */
export type Direction = 'higher' | 'lower' | 'closer-to-oracle';

/** Per-item values of one named series (e.g. 'forget', 'holdout'), aligned with the item ids. */
export interface Series {
  ids: string[];
  /** null where the value is not a finite number (JSON has no NaN). */
  values: (number | null)[];
}

/**
 * How a metric's value is printed everywhere (terminal, summary.md, HTML, README): a number of
 * decimals, 'pct' (×100 with %), 'sci' (scientific, for p-values), 'seconds', 'mb', or 'count'
 * (k/M/B suffixes).
 */
export type MetricFormat = number | 'pct' | 'sci' | 'seconds' | 'mb' | 'count';

/**
 * A confidence interval of a metric's value: a seeded percentile bootstrap over the items the
 * value is computed from (`resamples` draws, `items` items; for an AUC each class is resampled on
 * its own).
 */
export interface Interval {
  lo: number | null;
  hi: number | null;
  level: number;
  method: string;
  resamples: number;
  items: number;
}

export interface MetricOutput {
  value: number | null;
  /** Confidence interval of `value` (bootstrap over items), where the metric can give one. */
  ci?: Interval;
  perItem?: Record<string, Series>;
  /**
   * Secondary numbers and explanations (other AUCs, ROC points, counts, what was left out);
   * `basis`, a sentence saying what the value rests on, is shown beside it in reports.
   */
  extra?: Record<string, JsonValue>;
}

/**
 * A data or model requirement, checked before compute; a failed one skips the metric with a reason:
 *   'oracle'                      the oracle model is given
 *   'manifest'                    the model folder has a manifest.json (unlearning runs)
 *   'split.<split>.<part>'        e.g. 'split.forget.qa' is non-empty
 *   'split.<split>.primary'       the split holds items of the task's own format
 *   'eval.<kind>.<name>'          e.g. 'eval.verbatim.forget' exists and is non-empty
 *   'target'                      the target is given, or its results are reused (what derived metrics read)
 *   'metric.<name>'               a derived metric: <name> is evaluated first (for every model)
 *                                 and has a value for this model; ctx.results reads it
 *   'metric.*'                    derived from every non-derived metric of the evaluation
 */
export type Requirement = string;

export interface Metric {
  name: string;
  /** Short human name for tables and plots ("Forget quality"). */
  label: string;
  direction: Direction;
  format: MetricFormat;
  /** One line for listings, tables' column descriptions and the results file. */
  summary: string;
  requires?: Requirement[];
  compute(ctx: MetricContext): MetricOutput | Promise<MetricOutput>;
}

/** Which model of an evaluation a context is about. */
export type ModelRole = 'unlearned' | 'oracle' | 'target';

export interface MetricContext {
  task: Task;
  role: ModelRole;
  /** The model being measured. */
  model: ModelEval;
  /**
   * The oracle (retrained without the forget data), or null when none was given. When the
   * oracle itself is measured this is the same ModelEval as `model`.
   */
  oracle: ModelEval | null;
  options: EvalOptions;
  log(message: string): void;
  /** The target (before unlearning), or null/absent when none was given. */
  target?: ModelEval | null;
  /** The target's results are in this evaluation (evaluated here, or reused), loaded or not. */
  targetResults?: boolean;
  /**
   * For derived metrics (requires 'metric.…'): the result of another metric of this evaluation
   * for a model role, or undefined when it was not run for that role.
   */
  results?: (name: string, role: ModelRole) => MetricResultLike | undefined;
  /** The metric names of this evaluation, in order (derived ones included). */
  names?: readonly string[];
  /** Look up a metric of the registry this evaluation runs with (throws ConfigError when unknown). */
  metric(name: string): Metric;
}

/** A stored metric result as derived metrics read it (the shape of results.ts MetricResult). */
export type MetricResultLike =
  | {
      value: number | null;
      perItem?: Record<string, Series>;
      extra?: Record<string, JsonValue>;
      ci?: Interval;
    }
  | { skipped: string }
  | { failed: string };

/** Thrown from compute when the data turns out not to support the metric; recorded as skipped. */
export class MetricSkip extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'MetricSkip';
  }
}

/** Skip the running metric with a reason (never returns). */
export function skip(reason: string): never {
  throw new MetricSkip(reason);
}

/** Why a metric needs the oracle, worded for the results file and the CLI. */
export const NO_ORACLE =
  'needs the oracle model (pass --oracle DIR, or evaluate an unlearned folder whose manifest.json names extra.oracle)';

/** Why a metric needs the target, worded for the results file. */
export const NO_TARGET =
  'needs the target model (pass --target DIR, or evaluate an unlearned folder whose manifest.json names its source)';
