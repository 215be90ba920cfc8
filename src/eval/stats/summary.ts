/**
 * Summary statistics for metric values: harmonic mean (TOFU's model utility), mean, standard
 * deviation, quantiles, and a seeded percentile-bootstrap confidence interval.
 *
 * Promises
 * - Pure, deterministic functions of their inputs (the bootstrap draws from lethe's seeded Rng, so a
 *   seed fixes the interval on every platform).
 * - Empty input → NaN (no value to summarise); any NaN input → NaN. Each function's doc says what it
 *   does beyond that.
 */
import { ConfigError } from '../../errors.ts';
import { Rng } from '../../tensor/rng.ts';

function anyNaN(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (Number.isNaN(x[i])) return true;
  return false;
}

/**
 * Harmonic mean n / Σ 1/xᵢ — TOFU's model utility over its 9 numbers ({probability, ROUGE, truth
 * ratio} × {retain, real authors, world facts}). Any value ≤ 0 makes the result 0: a utility component
 * at 0 means the model failed that axis entirely, and the harmonic mean's limit as a value → 0⁺ is 0
 * (scipy.stats.hmean returns 0 for a 0 too; it raises for negatives, which here also give 0 because a
 * negative utility component is outside every defined metric's range). Empty → NaN; NaN anywhere → NaN.
 * Direction: higher is better when the inputs are.
 */
export function harmonicMean(values: ArrayLike<number>): number {
  if (values.length === 0 || anyNaN(values)) return Number.NaN;
  let inv = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] <= 0) return 0;
    inv += 1 / values[i];
  }
  return values.length / inv;
}

/** Arithmetic mean Σxᵢ / n. Empty → NaN. */
export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

/**
 * Standard deviation sqrt(Σ(xᵢ − x̄)² / (n − ddof)); ddof = 0 (population, numpy's default) unless
 * given; ddof = 1 is the sample estimate. Two-pass, so no cancellation. n ≤ ddof → NaN.
 */
export function std(values: ArrayLike<number>, ddof = 0): number {
  const n = values.length;
  if (n === 0 || n - ddof <= 0) return Number.NaN;
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - m) ** 2;
  return Math.sqrt(ss / (n - ddof));
}

function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

function quantileOfSorted(s: Float64Array, q: number): number {
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  const t = h - lo;
  const a = s[lo];
  const b = s[hi];
  // numpy's lerp: from the nearer end, so q = 1 returns the maximum exactly.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

function checkQ(q: number, where: string): void {
  if (!(q >= 0 && q <= 1))
    throw new ConfigError(`${where}: q = ${q} is out of range`, { expected: 'q in [0, 1]' });
}

/**
 * The q-quantile with linear interpolation between order statistics (numpy.quantile's default
 * 'linear' method, Hyndman & Fan type 7): position (n − 1)·q in the sorted values. Empty or NaN → NaN.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  checkQ(q, 'quantile');
  if (values.length === 0 || anyNaN(values)) return Number.NaN;
  return quantileOfSorted(sortedCopy(values), q);
}

/** Several quantiles of the same values (sorted once). */
export function quantiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  for (const q of qs) checkQ(q, 'quantiles');
  if (values.length === 0 || anyNaN(values)) return qs.map(() => Number.NaN);
  const s = sortedCopy(values);
  return qs.map((q) => quantileOfSorted(s, q));
}

/** Median (the 0.5 quantile; the mean of the two middle values for even n). Empty → NaN. */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Two-sided level: the interval covers 1 − alpha (default 0.05 → a 95% interval). */
  alpha?: number;
  /** Rng seed (default 0). */
  seed?: number;
  /** The statistic of a resample (default mean). */
  statistic?: (sample: Float64Array) => number;
}

export interface BootstrapInterval {
  /** The statistic on the original data. */
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Percentile-bootstrap confidence interval: draw `resamples` samples of size n with replacement
 * (seeded), apply the statistic, and take the alpha/2 and 1 − alpha/2 quantiles (type 7) of the
 * results. Cheap, assumption-light and first-order accurate; not bias-corrected (no BCa). Empty input
 * → all NaN; a NaN statistic on some resample propagates to NaN bounds.
 */
export function bootstrapCi(values: ArrayLike<number>, options: BootstrapOptions = {}): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const alpha = options.alpha ?? 0.05;
  const stat = options.statistic ?? ((s: Float64Array) => mean(s));
  if (!(Number.isInteger(resamples) && resamples >= 1)) {
    throw new ConfigError(`bootstrapCi: resamples = ${resamples} is invalid`, { expected: 'an integer ≥ 1' });
  }
  if (!(alpha > 0 && alpha < 1)) {
    throw new ConfigError(`bootstrapCi: alpha = ${alpha} is out of range`, { expected: 'alpha in (0, 1)' });
  }
  const n = values.length;
  if (n === 0) return { estimate: Number.NaN, lower: Number.NaN, upper: Number.NaN };
  const data = Float64Array.from(values);
  const rng = new Rng(options.seed ?? 0);
  const stats = new Float64Array(resamples);
  const sample = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = data[rng.int(0, n)];
    stats[r] = stat(sample);
  }
  const [lower, upper] = quantiles(stats, [alpha / 2, 1 - alpha / 2]);
  return { estimate: stat(data), lower, upper };
}
