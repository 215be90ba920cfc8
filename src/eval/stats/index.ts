/** Public API of src/eval/stats: KS test, Kolmogorov distribution, ROC AUC, summary statistics. Re-exports only. */

export type { Label, RocCurve } from './auc.ts';
export { aucFromCurve, rocAuc, rocAucLabeled, rocCurve, tprAtFpr, tprAtFprFromCurve } from './auc.ts';
export { kolmogorovCdf, kolmogorovSf, smirnovSf } from './kolmogorov.ts';
export type { KsMethod, KsOptions, KsResult } from './ks.ts';
export { KS_MAX_AUTO_N, ksAsymptoticPValue, ksExactPValue, ksStatistic, ksTwoSample } from './ks.ts';
export type { BootstrapInterval, BootstrapOptions } from './summary.ts';
export { bootstrapCi, harmonicMean, mean, median, quantile, quantiles, std } from './summary.ts';
