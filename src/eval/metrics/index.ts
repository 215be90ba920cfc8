/**
 * Every metric, registered on import (the registry throws on a duplicate name), and the registry
 * functions. Re-exports only.
 */

export { closenessGapLeft, relearnRecovery } from './derived.ts';
export { flops, peakMemory, seconds, trainable } from './efficiency.ts';
export { mcqMetrics } from './mcq.ts';
export { extractionLikelihoods } from './memorisation.ts';
export { attackAuc, type MiaAttack, miaMetrics, miaScores } from './mia.ts';
export { knowmemForget, knowmemPrompt, knowmemRetain, knowmemShots, privleak, verbmem } from './muse.ts';
export { leaks, piiDemo, piiDemos, piiMetrics } from './privacy.ts';
export {
  getMetric,
  hasMetric,
  isDerived,
  METRIC_FORMATS,
  metricInputs,
  metricNames,
  primaryPart,
  registerMetric,
  unmetRequirement,
} from './registry.ts';
export { type QaSet, type SplitSequences, splitSequences, type TofuRole, tofuSet } from './shared.ts';
export { forgetQuality, modelUtility, truthRatios } from './tofu.ts';
export { perplexity } from './utility.ts';

import '../robustness/checks.ts';
import './derived.ts';
