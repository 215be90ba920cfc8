/**
 * Confidence intervals of headline numbers: a seeded percentile bootstrap over the items a value
 * is computed from (UNLEARNING.md's metrics are means over items, AUCs over two sets of items, or
 * ratios of such means). Every interval is 95%, from 1000 resamples, and records how it was made.
 *
 * Seeds: each interval's Rng seed is a hash of the item ids (and a tag naming the quantity), so the
 * same items give the same interval on every run and thread count, and two metrics over the same
 * items do not share their resamples by accident.
 *
 * Degenerate input: no finite value (or an empty class for an AUC) gives lo = hi = null; a single
 * item gives lo = hi = its value (the bootstrap cannot see the spread of one draw). Non-finite
 * per-item values are left out, as the means they belong to leave them out.
 */
import { Rng } from '../tensor/index.ts';
import { quantiles } from './stats/summary.ts';
import { hashString } from './string-hash.ts';
import type { Interval } from './types.ts';

export const CI_LEVEL = 0.95;
export const CI_RESAMPLES = 1000;

const seedOf = (tag: string): number => hashString(tag) | 0;

function interval(stats: Float64Array, items: number, method: string): Interval {
  const finite = stats.filter(Number.isFinite);
  if (finite.length === 0) return { lo: null, hi: null, level: CI_LEVEL, method, resamples: 0, items };
  const a = (1 - CI_LEVEL) / 2;
  const [lo, hi] = quantiles(finite, [a, 1 - a]);
  return { lo, hi, level: CI_LEVEL, method, resamples: finite.length, items };
}

const finiteOf = (values: readonly number[]): number[] => values.filter(Number.isFinite);

/** Resample indices 0…n−1 with replacement into `out`. */
function draw(rng: Rng, n: number, out: Int32Array): void {
  for (let i = 0; i < n; i++) out[i] = rng.int(0, n);
}

/**
 * A statistic of several aligned arrays (per-item values of the same items, e.g. a model's and
 * the target's NLL on each held-out question) under a paired bootstrap: each resample draws item
 * indices once and applies them to every array. Items with a non-finite value in any array are
 * left out.
 */
export function pairedInterval(
  arrays: readonly (readonly number[])[],
  stat: (arrays: Float64Array[]) => number,
  tag: string,
): Interval {
  const n0 = Math.min(...arrays.map((a) => a.length));
  const keep: number[] = [];
  for (let i = 0; i < n0; i++) if (arrays.every((a) => Number.isFinite(a[i]))) keep.push(i);
  const n = keep.length;
  const method = 'paired percentile bootstrap over items';
  if (n === 0) return { lo: null, hi: null, level: CI_LEVEL, method, resamples: 0, items: 0 };
  const data = arrays.map((a) => Float64Array.from(keep, (i) => a[i]));
  const rng = new Rng(seedOf(`${tag}|${n}|${data.map((d) => d[0]).join(',')}`));
  const idx = new Int32Array(n);
  const samples = data.map(() => new Float64Array(n));
  const stats = new Float64Array(CI_RESAMPLES);
  for (let r = 0; r < CI_RESAMPLES; r++) {
    draw(rng, n, idx);
    for (let k = 0; k < data.length; k++) for (let i = 0; i < n; i++) samples[k][i] = data[k][idx[i]];
    stats[r] = stat(samples);
  }
  return interval(stats, n, method);
}

const meanOf = (x: Float64Array): number => {
  let s = 0;
  for (const v of x) s += v;
  return s / x.length;
};

/** 95% interval of the mean of per-item values (item ids seed the resampling). */
export function meanInterval(ids: readonly string[], values: readonly number[]): Interval {
  return pairedInterval([values], ([x]) => meanOf(x), `mean|${ids.join('\n')}`);
}

/**
 * 95% interval of a two-sample statistic (an AUC of members vs non-members): each class is
 * resampled on its own, keeping its size (a stratified bootstrap).
 */
export function twoSampleInterval(
  a: readonly number[],
  b: readonly number[],
  stat: (a: Float64Array, b: Float64Array) => number,
  tag: string,
): Interval {
  const x = Float64Array.from(finiteOf(a));
  const y = Float64Array.from(finiteOf(b));
  const method = 'stratified percentile bootstrap over items';
  const items = x.length + y.length;
  if (x.length === 0 || y.length === 0)
    return { lo: null, hi: null, level: CI_LEVEL, method, resamples: 0, items };
  const rng = new Rng(seedOf(`${tag}|${x.length}|${y.length}|${x[0]}|${y[0]}`));
  const ix = new Int32Array(x.length);
  const iy = new Int32Array(y.length);
  const sx = new Float64Array(x.length);
  const sy = new Float64Array(y.length);
  const stats = new Float64Array(CI_RESAMPLES);
  for (let r = 0; r < CI_RESAMPLES; r++) {
    draw(rng, x.length, ix);
    draw(rng, y.length, iy);
    for (let i = 0; i < x.length; i++) sx[i] = x[ix[i]];
    for (let i = 0; i < y.length; i++) sy[i] = y[iy[i]];
    stats[r] = stat(sx, sy);
  }
  return interval(stats, items, method);
}

/** Half the width of an interval (0 when it has no bounds). */
export const halfWidth = (ci: Interval | undefined | null): number =>
  ci && ci.lo !== null && ci.hi !== null ? (ci.hi - ci.lo) / 2 : 0;

/**
 * 95% interval of a statistic of several classes of items (forget and holdout), each class holding
 * aligned arrays (the same items scored by two models): every class is resampled on its own, and a
 * class's draw applies to all its arrays (stratified and paired). Non-finite items are left out of
 * their class.
 */
export function stratifiedPairedInterval(
  classes: readonly (readonly (readonly number[])[])[],
  stat: (classes: Float64Array[][]) => number,
  tag: string,
): Interval {
  const method = 'stratified paired percentile bootstrap over items';
  const data = classes.map((arrays) => {
    const n0 = Math.min(...arrays.map((a) => a.length));
    const keep: number[] = [];
    for (let i = 0; i < n0; i++) if (arrays.every((a) => Number.isFinite(a[i]))) keep.push(i);
    return arrays.map((a) => Float64Array.from(keep, (i) => a[i]));
  });
  const sizes = data.map((d) => d[0]?.length ?? 0);
  const items = sizes.reduce((s, n) => s + n, 0);
  if (sizes.some((n) => n === 0)) return { lo: null, hi: null, level: CI_LEVEL, method, resamples: 0, items };
  const rng = new Rng(seedOf(`${tag}|${sizes.join(',')}|${data.map((d) => d[0][0]).join(',')}`));
  const idx = sizes.map((n) => new Int32Array(n));
  const samples = data.map((arrays) => arrays.map((a) => new Float64Array(a.length)));
  const stats = new Float64Array(CI_RESAMPLES);
  for (let r = 0; r < CI_RESAMPLES; r++) {
    data.forEach((arrays, c) => {
      draw(rng, sizes[c], idx[c]);
      arrays.forEach((a, k) => {
        for (let i = 0; i < sizes[c]; i++) samples[c][k][i] = a[idx[c][i]];
      });
    });
    stats[r] = stat(samples);
  }
  return interval(stats, items, method);
}
