/**
 * The two-sample KS test and the Kolmogorov distribution against scipy 1.10
 * (test/fixtures/stats/ks.json, written by scripts/make-stats-fixtures.py), plus the degenerate cases.
 * Tolerances: the statistic bit-exact (same arithmetic as scipy); exact p-values 1e-10 relative (seen:
 * identical); asymptotic p-values 1e-6 relative (seen: ≤ 1.2e-13); kstwo sf/cdf on the branch grid
 * 1e-9 relative (seen: ≤ 1.1e-12, where sf = 1 − cdf cancels); Durbin vs Pomeranz (two exact methods)
 * 1e-12 absolute.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError } from '../../errors.ts';
import { kolmogorovCdf, kolmogorovCdfDurbin, kolmogorovCdfPomeranz, kolmogorovSf } from './kolmogorov.ts';
import { type KsMethod, ksStatistic, ksTwoSample } from './ks.ts';

interface GenSpec {
  n: number;
  a: number;
  c: number;
  m: number;
  scale: number;
  shift: number;
}
interface KsCase {
  name: string;
  method: KsMethod;
  a?: number[];
  b?: number[];
  a_gen?: GenSpec;
  b_gen?: GenSpec;
  statistic: number;
  pvalue: number | null;
  expect_method: 'exact' | 'asymp';
}
interface KstwoCase {
  n: number;
  x: number;
  sf: number;
  cdf: number;
}
const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/stats/ks.json', import.meta.url), 'utf8'),
) as { cases: KsCase[]; kstwo: KstwoCase[] };

/** The fixture's generator: value[i] = ((a·i + c) mod m)·scale + shift, exact as in numpy. */
function genValues(g: GenSpec): number[] {
  return Array.from({ length: g.n }, (_, i) => ((g.a * i + g.c) % g.m) * g.scale + g.shift);
}

function assertRel(actual: number, expected: number | null, tol: number, what: string): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  const err = expected === actual ? 0 : Math.abs(actual - expected) / Math.abs(expected);
  assert.ok(
    err <= tol,
    `${what}: ${actual} vs scipy ${expected} (relative error ${err.toExponential(2)} > ${tol})`,
  );
}

for (const c of fixture.cases) {
  test(`ksTwoSample matches scipy: ${c.name} (method ${c.method})`, () => {
    const a = c.a ?? genValues(c.a_gen!);
    const b = c.b ?? genValues(c.b_gen!);
    const r = ksTwoSample(a, b, { method: c.method });
    assert.equal(r.method, c.expect_method, 'p-value method');
    assert.equal(r.statistic, c.statistic, 'statistic (bit-exact)');
    assertRel(r.pvalue, c.pvalue, r.method === 'exact' ? 1e-10 : 1e-6, 'p-value');
  });
}

test('kolmogorovSf / kolmogorovCdf match scipy.stats.kstwo on every branch', () => {
  for (const k of fixture.kstwo) {
    assertRel(kolmogorovSf(k.n, k.x), k.sf, 1e-9, `sf(n=${k.n}, x=${k.x})`);
    assertRel(kolmogorovCdf(k.n, k.x), k.cdf, 1e-9, `cdf(n=${k.n}, x=${k.x})`);
  }
});

test('Durbin matrix and Pomeranz recursion agree (two exact methods)', () => {
  for (const n of [5, 17, 40, 100]) {
    for (const x of [0.08, 0.13, 0.2, 0.31]) {
      if (n * x <= 1 || x >= 0.5) continue;
      const d = kolmogorovCdfDurbin(n, x);
      const p = kolmogorovCdfPomeranz(n, x);
      assert.ok(Math.abs(d - p) <= 1e-12, `n=${n} x=${x}: Durbin ${d} vs Pomeranz ${p}`);
    }
  }
  // Integer t = n·x (mesh points coincide).
  assert.ok(Math.abs(kolmogorovCdfDurbin(20, 0.25) - kolmogorovCdfPomeranz(20, 0.25)) <= 1e-12);
});

test('ksTwoSample: empty samples and NaN give NaN with a reason', () => {
  for (const [a, b] of [
    [[], [1, 2]],
    [[1], []],
    [[], []],
  ] as number[][][]) {
    const r = ksTwoSample(a, b);
    assert.ok(Number.isNaN(r.statistic) && Number.isNaN(r.pvalue), 'NaN');
    assert.equal(r.method, 'none');
    assert.match(r.reason ?? '', /empty sample/);
  }
  const r = ksTwoSample([1, Number.NaN], [2]);
  assert.ok(Number.isNaN(r.pvalue));
  assert.match(r.reason ?? '', /NaN at index 1/);
  assert.ok(Number.isNaN(ksStatistic([], [1])));
});

test('ksTwoSample: identical samples give D = 0, p = 1; order of samples does not matter', () => {
  const x = [0.3, 0.1, 0.7, 0.7, 0.2];
  assert.deepEqual(ksTwoSample(x, [...x].reverse()), { statistic: 0, pvalue: 1, method: 'exact' });
  const a = [0.1, 0.5, 0.9, 1.3, 2];
  const b = [0.4, 0.45, 3, 4];
  const ab = ksTwoSample(a, b);
  const ba = ksTwoSample(b, a);
  assert.equal(ab.statistic, ba.statistic);
  assert.equal(ab.pvalue, ba.pvalue);
});

test('ksTwoSample: infinite values sort to the ends; typed arrays are accepted', () => {
  // F_a − F_b at −∞, 0, 2, 3, 5, ∞: 1/3, 2/3, 1/3, 0, 1/3, 0 → D = 2/3 (scipy: 0.6666666666666666, p 0.6).
  const r = ksTwoSample(Float64Array.from([Number.NEGATIVE_INFINITY, 0, 5]), [
    2,
    3,
    Number.POSITIVE_INFINITY,
  ]);
  assert.equal(r.statistic, 2 / 3);
  assert.equal(r.pvalue, 0.6);
  assert.equal(r.method, 'exact');
});

test('ksTwoSample: an unknown method is a ConfigError', () => {
  assert.throws(() => ksTwoSample([1], [2], { method: 'fast' as KsMethod }), ConfigError);
});

test('kolmogorov: invalid n gives NaN; x outside (0, 1) gives the limits', () => {
  assert.ok(Number.isNaN(kolmogorovSf(0, 0.5)));
  assert.ok(Number.isNaN(kolmogorovSf(2.5, 0.5)));
  assert.ok(Number.isNaN(kolmogorovSf(10, Number.NaN)));
  assert.equal(kolmogorovSf(10, 0), 1);
  assert.equal(kolmogorovSf(10, 1), 0);
  assert.equal(kolmogorovCdf(10, -1), 0);
  assert.equal(kolmogorovCdf(10, 2), 1);
});
