/**
 * The metric families, the registry built from them (catalog.ts) and its functions. Re-exports
 * only.
 */

export {
  getMetric,
  hasMetric,
  METRICS,
  metricNames,
  registerMetric,
  registerRobustnessCheck,
  robustnessMetricNames,
} from './catalog.ts';
export { closenessGapLeft, derivedMetrics, relearnRecovery } from './derived.ts';
export { efficiencyMetrics, flops, peakMemory, seconds, trainable } from './efficiency.ts';
export { mcqMetrics } from './mcq.ts';
export {
  elPositions,
  exactMemorisation,
  extractionLikelihoods,
  extractionStrength,
  memorisationAccuracy,
  memorisationMetrics,
} from './memorisation.ts';
export { attackAuc, type MiaAttack, miaMetrics, miaScores } from './mia.ts';
export {
  knowmemForget,
  knowmemPrompt,
  knowmemRetain,
  knowmemShots,
  museMetrics,
  privleak,
  verbmem,
} from './muse.ts';
export { leaks, piiDemo, piiDemos, piiMetrics } from './privacy.ts';
export {
  isDerived,
  METRIC_FORMATS,
  MetricRegistry,
  metricInputs,
  primaryPart,
  unmetRequirement,
} from './registry.ts';
export { type QaSet, type SplitSequences, splitSequences, type TofuRole, tofuSet } from './shared.ts';
export { forgetQuality, modelUtility, tofuMetrics, truthRatios } from './tofu.ts';
export { perplexity, utilityMetrics } from './utility.ts';
