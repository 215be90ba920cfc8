/**
 * Suites: named lists of metric names. `all` is every suite's metrics plus the registered
 * robustness checks; `robustness` is the checks alone (robustnessMetricNames in src/eval/metrics/catalog.ts). A metric the
 * task cannot feed is recorded as skipped with its reason, so a suite can be run on any task.
 */
import { ConfigError } from '../errors.ts';
import { getMetric, robustnessMetricNames } from './metrics/index.ts';

const ROLES = ['forget', 'retain', 'realAuthors', 'worldFacts'];
const tofu = [
  ...ROLES.flatMap((r) => [`tofu.${r}.prob`, `tofu.${r}.rouge`, `tofu.${r}.truthRatio`]),
  'tofu.forgetQuality',
  'tofu.modelUtility',
];
const muse = [
  'muse.verbmem.forget',
  'muse.knowmem.forget',
  'muse.knowmem.retain',
  'muse.privleak',
  'utility.perplexity',
];
const mia = ['mia.loss', 'mia.zlib', 'mia.minK', 'mia.minKpp', 'mia.reference', 'mia.gradNorm'];
const pii = ['forget', 'holdout', 'retain'].flatMap((s) => [
  `pii.zeroShot.${s}`,
  `pii.fewShot.${s}`,
  `pii.qa.${s}`,
  `pii.valueAccuracy.${s}`,
  // DecodingTrust's e-mail grading of enron-pii's zero-shot and k-shot sets (skipped elsewhere).
  `pii.enron.zeroShot.${s}`,
  `pii.enron.kShot.${s}`,
  `pii.enron.kShotOtherDomain.${s}`,
]);
const privacy = [...mia, 'muse.privleak', ...pii];
const extraction = ['forget', 'holdout', 'retain'].flatMap((s) => [
  `mem.ma.${s}`,
  `mem.el.${s}`,
  `mem.es.${s}`,
  `mem.em.${s}`,
]);
const mcq = ['mcq.forget', 'mcq.retain', 'mcq.realAuthors', 'mcq.worldFacts', 'mcq.utility'];
const utility = [
  'utility.perplexity',
  'tofu.retain.prob',
  'tofu.retain.rouge',
  'tofu.retain.truthRatio',
  'tofu.modelUtility',
  'muse.knowmem.retain',
  'mcq.retain',
  'mcq.utility',
  'pii.zeroShot.retain',
];
const efficiency = [
  'efficiency.seconds',
  'efficiency.peakMemoryMb',
  'efficiency.trainableParameters',
  'efficiency.flops',
];

const STATIC: Record<string, readonly string[]> = {
  tofu,
  muse,
  privacy,
  extraction,
  mcq,
  utility,
  efficiency,
};

export const SUITE_NAMES = [...Object.keys(STATIC), 'robustness', 'all'];

/** The metric names of a suite, without repeats, in suite order. */
export function suiteMetrics(suite: string): string[] {
  let names: string[];
  // Relearn recovery is derived from robustness.relearn (src/eval/metrics/derived.ts).
  const robustness = [...robustnessMetricNames(), 'robustness.relearnRecovery'];
  if (suite === 'robustness') names = robustness;
  else if (suite === 'all') names = [...Object.values(STATIC).flat(), ...robustness];
  else if (STATIC[suite]) names = [...STATIC[suite]];
  else {
    throw new ConfigError(`unknown suite "${suite}"`, { expected: SUITE_NAMES.join(', ') });
  }
  const unique = [...new Set(names)];
  for (const n of unique) getMetric(n); // a typo in a suite list fails here, not mid-run
  return unique;
}
