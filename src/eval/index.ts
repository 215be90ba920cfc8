/**
 * Public API of src/eval: metrics and their registry, suites, the per-model evaluation cache, the
 * runner, the results file, and the pure scoring arithmetic (truth ratio, MIA scores, memorisation,
 * closeness). Re-exports only.
 */
export {
  CLOSENESS_DEFINITION,
  CLOSENESS_EPSILON,
  CLOSENESS_MIN_RELATIVE_GAP,
  type Closeness,
  type ClosenessEntry,
  type ClosenessInput,
  closeness,
  closenessEntry,
} from './closeness.ts';
export {
  CI_LEVEL,
  CI_RESAMPLES,
  halfWidth,
  meanInterval,
  pairedInterval,
  twoSampleInterval,
} from './intervals.ts';
export {
  MANIFEST_FILE,
  readModelTransform,
  readUnlearnManifest,
  UNLEARN_LOG_FILE,
  type UnlearnManifest,
  UnlearnManifestSchema,
  unlearnTokens,
} from './manifest.ts';
export * from './metrics/index.ts';
export {
  lossScore,
  minKPlusPlusScore,
  minKScore,
  privLeak,
  referenceScore,
  zlibLength,
  zlibScore,
} from './mia-scores.ts';
export { ModelEval, type ModelEvalInit, type TextGeneration } from './model-eval.ts';
export {
  defaultEvalOptions,
  type EvalOptions,
  type EvalOptionsInput,
  EvalOptionsSchema,
} from './options.ts';
export { type ResultCells, resultCells } from './result-cells.ts';
export {
  type EvalResults,
  EvalResultsSchema,
  type MetricEntry,
  type MetricResult,
  MetricResultSchema,
  type ModelInfo,
  parseResults,
  RESULTS_FORMAT,
  readResults,
  writeResults,
} from './results.ts';
export {
  isRobustnessCheck,
  type RobustnessCheck,
  type RobustnessContext,
  robustnessMetric,
} from './robustness-hook.ts';
export { runMetric } from './run-metric.ts';
export {
  companionsFromManifest,
  type EvaluateRequest,
  evaluate,
  type ModelSource,
  requestedMetrics,
  runEval,
} from './runner.ts';
export { gradNorm, logProbMoments, type Scored, scoreForEval } from './scoring.ts';
export { hashString } from './string-hash.ts';
export { SUITE_NAMES, suiteMetrics } from './suites.ts';
export {
  finiteMean,
  forgetTruthStat,
  normalisedProbability,
  probability,
  retainTruthStat,
  truthRatio,
} from './truth-ratio.ts';
export {
  type Direction,
  type Interval,
  type Metric,
  type MetricContext,
  type MetricFormat,
  type MetricOutput,
  MetricSkip,
  type ModelRole,
  NO_ORACLE,
  type Requirement,
  type Series,
  skip,
} from './types.ts';
