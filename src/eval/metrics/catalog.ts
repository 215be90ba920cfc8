/**
 * The metric registry lethe evaluates with, built here once from each family's explicit list (a
 * duplicate name throws when this module loads), and the functions that read it. Library code can
 * add its own metrics and robustness checks with registerMetric / registerRobustnessCheck; nothing
 * registers itself on import.
 */

import { robustnessChecks } from '../robustness/checks.ts';
import { isRobustnessCheck, type RobustnessCheck, robustnessMetric } from '../robustness-hook.ts';
import type { Metric } from '../types.ts';
import { derivedMetrics } from './derived.ts';
import { efficiencyMetrics } from './efficiency.ts';
import { mcqMetrics } from './mcq.ts';
import { memorisationMetrics } from './memorisation.ts';
import { miaMetrics } from './mia.ts';
import { museMetrics } from './muse.ts';
import { enronMetrics, piiMetrics, piiQaMetrics, piiValueMetrics } from './privacy.ts';
import { MetricRegistry } from './registry.ts';
import { tofuMetrics } from './tofu.ts';
import { utilityMetrics } from './utility.ts';

export const METRICS = new MetricRegistry([
  ...tofuMetrics,
  ...museMetrics,
  ...utilityMetrics,
  ...miaMetrics,
  ...piiMetrics,
  ...piiQaMetrics,
  ...piiValueMetrics,
  ...enronMetrics,
  ...memorisationMetrics,
  ...mcqMetrics,
  ...efficiencyMetrics,
  ...robustnessChecks.map(robustnessMetric),
  ...derivedMetrics,
]);

/** The metric of that name; an unknown name throws ConfigError listing the known ones. */
export const getMetric = (name: string): Metric => METRICS.get(name);

export const hasMetric = (name: string): boolean => METRICS.has(name);

/** Every metric name, sorted. */
export const metricNames = (): string[] => METRICS.names();

/** Add a metric to the registry (a duplicate name throws). For library users' own metrics. */
export const registerMetric = (metric: Metric): Metric => METRICS.add(metric);

/** Add a robustness check as the metric robustness.<name> (a duplicate name throws). */
export const registerRobustnessCheck = (check: RobustnessCheck): Metric =>
  METRICS.add(robustnessMetric(check));

/** Names of the registered robustness checks, in registration order. */
export const robustnessMetricNames = (): string[] =>
  METRICS.all()
    .filter(isRobustnessCheck)
    .map((m) => m.name);
