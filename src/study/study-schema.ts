/**
 * The study summary: everything the report shows, and nothing it has to recompute. Written by
 * the study runner (`lethe bench`) as runs/<study>/summary.json and read back by the report
 * (`lethe report`), validated by this schema on both sides.
 */
import { z } from 'zod';
import { getMetric } from '../eval/metrics/index.ts';

/** A metric value; null means not applicable or skipped (the reason is in `notes`). */
const Value = z.number().nullable();

/** A model a row was graded against: its folder (relative to where lethe ran) and modelHash(). */
const ModelRef = z.strictObject({ dir: z.string(), hash: z.string() });

/** The target/oracle pair of one seed (the prepare cache key names the pair). */
export const ReferenceSetSchema = z.strictObject({
  seed: z.number().int(),
  prepareKey: z.string(),
  target: ModelRef,
  oracle: ModelRef,
});
export type ReferenceSet = z.infer<typeof ReferenceSetSchema>;

/** What training a reference model really cost (prepare.json); tokens/FLOPs null when not recorded. */
export const TrainingCostSchema = z.strictObject({
  seconds: z.number().nonnegative(),
  steps: z.number().int().nonnegative(),
  tokens: z.number().nonnegative().nullable(),
  flops: z.number().nonnegative().nullable(),
  flopsFormula: z.string(),
  finalLoss: z.number().nullable(),
});

/** Wall time of one `lethe bench` invocation by phase (reused work costs nothing). */
/**
 * Where a study's wall time went (docs/study.md): per phase the wall time during which it had work
 * running; with jobs > 1 phases overlap, and `busy` adds up each phase's tasks (process-seconds).
 */
export const WallTimeSchema = z.strictObject({
  training: z.number().nonnegative(),
  unlearning: z.number().nonnegative(),
  evaluation: z.number().nonnegative(),
  total: z.number().nonnegative(),
  busy: z
    .strictObject({
      training: z.number().nonnegative(),
      unlearning: z.number().nonnegative(),
      evaluation: z.number().nonnegative(),
    })
    .optional(),
  /** Processes working at once, and native threads per unlearning child (summaries written before them lack both). */
  jobs: z.int().positive().optional(),
  threads: z.int().positive().optional(),
});
export type WallTime = z.infer<typeof WallTimeSchema>;

export const ColumnSchema = z.strictObject({
  /** Key into RunRow.metrics. */
  key: z.string(),
  label: z.string(),
  direction: z.enum(['higher', 'lower', 'closer-to-oracle']),
  /** How to print (MetricFormat): decimals, 'pct' (×100 with %), 'sci', 'seconds', 'mb', 'count'. */
  format: z.union([z.number().int().nonnegative(), z.enum(['pct', 'sci', 'seconds', 'mb', 'count'])]),
  description: z.string(),
});
export type Column = z.infer<typeof ColumnSchema>;

/** One setting an oracle-free search tried (search.json's trial, NaN written as null). */
export const SearchTrialSchema = z.strictObject({
  /** The arguments the setting trained with (the entry's fixed ones included). */
  args: z.record(z.string(), z.unknown()),
  /** Successive-halving rung (0 for grid and random). */
  rung: z.number().int().nonnegative(),
  /** LOSS membership AUC, forget vs holdout: the rule's forget-side measure (closest to 0.5 wins). */
  miaAuc: Value,
  /** Utility as a share of the target's (the worse of retain probability and perplexity). */
  utility: Value,
  /** Kept the utility floor. */
  eligible: z.boolean(),
  seconds: z.number().nonnegative(),
  /** The oracle's forget quality of this trial: recorded for comparison only, never used to choose. */
  oracleGrade: Value,
});

/** What a run's oracle-free search tried and chose, and what the oracle would have chosen. */
export const RunSearchSchema = z
  .strictObject({
    strategy: z.string(),
    /** The share of the target's utility a setting had to keep. */
    utilityFloor: z.number(),
    /** Retain QA items of the validation part the utility was measured on. */
    validationItems: z.number().int().nonnegative(),
    trials: z.array(SearchTrialSchema).min(1),
    /** Index (into trials) of the setting the rule chose. */
    chosen: z.number().int().nonnegative(),
    /** False when no setting kept the utility floor (the most useful one was taken). */
    eligible: z.boolean(),
    /** Index of the trial the oracle would have chosen (best grade among the finalists), or null. */
    oracleChoice: z.number().int().nonnegative().nullable(),
    /** The oracle's choice's grade minus the rule's choice's (0 when they agree), or null. */
    gap: Value,
    /** The metric the oracle graded with. */
    oracleMetric: z.string(),
    /** Wall time of every trial together (s). */
    seconds: z.number().nonnegative(),
  })
  .superRefine((s, ctx) => {
    for (const key of ['chosen', 'oracleChoice'] as const) {
      const i = s[key];
      if (i !== null && i >= s.trials.length) {
        ctx.addIssue({ code: 'custom', path: [key], message: `no trial ${i} (${s.trials.length} trials)` });
      }
    }
  });
export type RunSearch = z.infer<typeof RunSearchSchema>;

/**
 * What a run cost against retraining from scratch: its unlearning time and FLOPs as fractions of
 * the oracle's training (same seed). FLOPs on both sides are 6·N·tokens trained on; null where a
 * side has none recorded. A searched run is its search's chosen trial; `withSearch` is the whole
 * search's time (every trial, the chosen one included).
 */
export const CostVsOracleSchema = z.strictObject({
  time: Value,
  flops: Value,
  /** The run's own training FLOPs (6·N·tokens of its step log), or null without a log. */
  runFlops: Value,
  /** Searched runs: the search's time (every trial, the run's among them) ÷ the oracle's training time. */
  withSearch: Value.optional(),
});
export type CostVsOracle = z.infer<typeof CostVsOracleSchema>;

export const RunRowSchema = z.strictObject({
  id: z.string(),
  /** 'target' and 'oracle' for the reference rows, else the method name. */
  method: z.string(),
  kind: z.enum(['reference', 'gradient', 'weights', 'input']),
  /** Human label, e.g. "npo β=0.1 lr=1e-4". */
  label: z.string(),
  args: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  metrics: z.record(z.string(), Value),
  /** 95% confidence intervals of metric values (bootstrap over items), where the metric gives one. */
  intervals: z.record(z.string(), z.strictObject({ lo: z.number(), hi: z.number() })).optional(),
  /** The seeds a report row merges (mean ± sd across them); absent for a single-seed row. */
  seeds: z.array(z.number().int()).optional(),
  /** Warnings that change what the row's numbers mean (from its evaluation), shown in the report. */
  warnings: z.array(z.string()).optional(),
  /** What a value rests on (items compared, components present), where its metric says. */
  basis: z.record(z.string(), z.string()).optional(),
  /** Why a metric has no value (skipped, not applicable: "n/a: …", failed). */
  notes: z.record(z.string(), z.string()),
  /** Per-step training losses from the unlearning log (empty for non-gradient methods). */
  curves: z.strictObject({
    step: z.array(z.number()),
    loss: z.array(z.number()),
    forgetLoss: z.array(z.number()).optional(),
    retainLoss: z.array(z.number()).optional(),
  }),
  /** ROC curves of membership-inference attacks, forget (members) vs holdout (non-members). */
  roc: z.record(
    z.string(),
    z.strictObject({ fpr: z.array(z.number()), tpr: z.array(z.number()), auc: Value }),
  ),
  /** Per-item truth ratios on the forget set (TOFU). */
  truthRatios: z.array(z.number()),
  /** Example generations on forget and retain questions. */
  examples: z.array(
    z.strictObject({
      split: z.enum(['forget', 'retain']),
      question: z.string(),
      answer: z.string(),
      generated: z.string(),
    }),
  ),
  trainableParameters: z.number().int().nonnegative(),
  timings: z.strictObject({ seconds: z.number().nonnegative(), peakRssMb: z.number().nonnegative() }),
  /** The target and oracle this row was graded against (the pair of its seed). */
  gradedAgainst: ReferenceSetSchema.optional(),
  /** Reference rows only: what training this model cost. */
  training: TrainingCostSchema.optional(),
  /** Searched runs: every setting the oracle-free search tried (from the run's search.json). */
  search: RunSearchSchema.optional(),
  /** Runs: unlearning cost as a fraction of the oracle's training (absent in older summaries). */
  costVsOracle: CostVsOracleSchema.optional(),
});
export type RunRow = z.infer<typeof RunRowSchema>;

export const SummarySchema = z
  .strictObject({
    format: z.literal('lethe-study/1'),
    study: z.strictObject({
      name: z.string(),
      task: z.strictObject({ spec: z.string(), name: z.string(), hash: z.string() }),
      suites: z.array(z.string()),
      seeds: z.array(z.number().int()),
      lethe: z.string(),
      node: z.string(),
      description: z.string().optional(),
      /** Metric names evaluated (suites expanded, extra metrics after). */
      metrics: z.array(z.string()).optional(),
      /** lethe's version plus a hash of the result-deciding sources (identity.ts). */
      code: z.string().optional(),
      /** The target/oracle pair of each seed; every row names the one it was graded against. */
      references: z.array(ReferenceSetSchema).optional(),
      /** This invocation's wall time by phase, in seconds. */
      wallTime: WallTimeSchema.optional(),
    }),
    columns: z.array(ColumnSchema),
    references: z.strictObject({ target: RunRowSchema, oracle: RunRowSchema }),
    runs: z.array(RunRowSchema),
  })
  .superRefine((s, ctx) => {
    // A leaderboard never mixes rows graded against different references: each row names the
    // pair of its seed, exactly.
    const sets = s.study.references;
    if (!sets) return;
    const flat = (r: ReferenceSet) =>
      [r.seed, r.prepareKey, r.target.dir, r.target.hash, r.oracle.dir, r.oracle.hash].join('\n');
    const bySeed = new Map(sets.map((r) => [r.seed, flat(r)]));
    for (const [i, row] of s.runs.entries()) {
      if (!row.gradedAgainst || flat(row.gradedAgainst) !== bySeed.get(row.seed)) {
        ctx.addIssue({
          code: 'custom',
          path: ['runs', i, 'gradedAgainst'],
          message: `run ${row.id} was not graded against the study's target and oracle of seed ${row.seed}`,
        });
      }
    }
  });
export type Summary = z.infer<typeof SummarySchema>;

/**
 * The leaderboard: metric names, in column order. Everything a column shows about its metric
 * (label, direction, format, description) comes from the metric registry (columnOf), so the
 * leaderboard cannot drift from what the metric is; the timing columns are the registry's
 * efficiency metrics, which the runner fills from each run's manifest.
 */
export const LEADERBOARD_METRICS = [
  'tofu.forgetQuality',
  'tofu.modelUtility',
  'muse.privleak',
  'muse.verbmem.forget',
  'mia.loss',
  // The QA-format probe: a small model leaks personal data to the questions it was trained on
  // long before it completes free-form extraction prompts.
  'pii.qa.forget',
  'robustness.relearnRecovery',
  'closeness.gapLeft',
  'efficiency.seconds',
  'efficiency.peakMemoryMb',
] as const;

/** A leaderboard column for a registered metric, as the registry describes it. */
export function columnOf(name: string): Column {
  const m = getMetric(name);
  return { key: m.name, label: m.label, direction: m.direction, format: m.format, description: m.summary };
}

/** The leaderboard columns, in order (the runner fills these metric keys). */
export const LEADERBOARD: Column[] = LEADERBOARD_METRICS.map(columnOf);
