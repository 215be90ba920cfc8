/**
 * Summary statistics on hand-computed values: harmonic mean edge cases (TOFU model utility), mean,
 * std with ddof, numpy-style linear quantiles, and the seeded bootstrap. Tolerance: 1e-12 relative
 * for closed forms (double arithmetic on a few values); the bootstrap is checked for determinism,
 * ordering and coverage of the estimate, not a value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../errors.ts';
import { bootstrapCi, harmonicMean, mean, median, quantile, quantiles, std } from './summary.ts';

const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('harmonicMean: n / Σ 1/x, with TOFU edge cases', () => {
  near(harmonicMean([1, 2, 4]), 3 / (1 + 0.5 + 0.25), 'three values');
  near(harmonicMean([0.5]), 0.5, 'one value');
  near(harmonicMean(new Array(9).fill(0.37)), 0.37, 'nine equal values');
  assert.equal(harmonicMean([0.9, 0, 0.8]), 0, 'a zero component → 0');
  assert.equal(harmonicMean([0.9, -0.1]), 0, 'a negative component → 0');
  assert.equal(harmonicMean([0.5, Number.POSITIVE_INFINITY]), 1, 'infinity contributes 1/∞ = 0');
  assert.ok(Number.isNaN(harmonicMean([])), 'empty → NaN');
  assert.ok(Number.isNaN(harmonicMean([0.5, Number.NaN])), 'NaN → NaN');
  assert.ok(Number.isNaN(harmonicMean([0, Number.NaN])), 'NaN wins over 0');
});

test('mean and std (ddof 0 and 1)', () => {
  near(mean([1, 2, 3, 4]), 2.5, 'mean');
  assert.ok(Number.isNaN(mean([])));
  near(std([2, 4, 4, 4, 5, 5, 7, 9]), 2, 'population std');
  near(std([1, 2, 3, 4], 1), Math.sqrt(5 / 3), 'sample std');
  assert.equal(std([3]), 0);
  assert.ok(Number.isNaN(std([3], 1)), 'n ≤ ddof → NaN');
  assert.ok(Number.isNaN(std([])));
});

test('quantile: numpy linear interpolation (type 7)', () => {
  const x = [7, 1, 3, 9, 5]; // sorted 1 3 5 7 9
  assert.equal(quantile(x, 0), 1);
  assert.equal(quantile(x, 1), 9);
  assert.equal(quantile(x, 0.5), 5);
  near(quantile(x, 0.1), 1.8, 'q = 0.1 → position 0.4');
  near(quantile(x, 0.95), 8.6, 'q = 0.95 → position 3.8');
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.deepEqual(quantiles([1, 2, 3], [0, 0.5, 1]), [1, 2, 3]);
  assert.ok(Number.isNaN(quantile([], 0.5)));
  assert.ok(Number.isNaN(quantile([1, Number.NaN], 0.5)));
  assert.throws(() => quantile([1], 1.5), ConfigError);
});

test('bootstrapCi: seeded, ordered, brackets the estimate', () => {
  const x = Array.from({ length: 50 }, (_, i) => Math.sin(i) + i / 25);
  const a = bootstrapCi(x, { seed: 7, resamples: 400 });
  const b = bootstrapCi(x, { seed: 7, resamples: 400 });
  assert.deepEqual(a, b, 'same seed → same interval');
  assert.notDeepEqual(bootstrapCi(x, { seed: 8, resamples: 400 }), a, 'another seed moves it');
  near(a.estimate, mean(x), 'estimate is the statistic on the data');
  assert.ok(a.lower < a.estimate && a.estimate < a.upper, `${a.lower} < ${a.estimate} < ${a.upper}`);
  const med = bootstrapCi(x, { seed: 1, statistic: (s) => median(s), alpha: 0.1 });
  near(med.estimate, median(x), 'custom statistic');
  const constant = bootstrapCi([2, 2, 2]);
  assert.deepEqual(constant, { estimate: 2, lower: 2, upper: 2 });
  const empty = bootstrapCi([]);
  assert.ok(Number.isNaN(empty.estimate) && Number.isNaN(empty.lower) && Number.isNaN(empty.upper));
  assert.throws(() => bootstrapCi(x, { alpha: 0 }), ConfigError);
  assert.throws(() => bootstrapCi(x, { resamples: 0 }), ConfigError);
});
