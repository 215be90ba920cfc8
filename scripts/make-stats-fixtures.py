#!/usr/bin/python3
"""
scipy reference fixtures for lethe's statistics (src/eval/stats): a dev-only oracle, lethe never
needs Python at run time.

Run:  /usr/bin/python3 scripts/make-stats-fixtures.py      (Debian python3-scipy 1.10, numpy 1.24)
Writes test/fixtures/stats/ks.json and test/fixtures/stats/auc.json; src/eval/stats/*.test.ts read them.

Promises
- Deterministic: every random case draws from its own numpy RandomState(seed), so re-running the
  script rewrites byte-identical files (same numpy/scipy build).
- Every number is written with Python's repr (json.dumps), which round-trips a float64 exactly.
  NaN is written as null.
- Large samples (the exact/asymptotic boundary at 10000) are not stored as values but as a generator
  spec {"n", "a", "c", "m", "scale", "shift"} meaning value[i] = ((a*i + c) % m) * scale + shift for
  i = 0 … n-1. Every step is exact integer arithmetic (< 2**53) followed by one float multiply and one
  float add, so JavaScript rebuilds bit-identical samples (see genValues in ks.test.ts).

ks.json
- "cases": scipy.stats.ks_2samp(a, b, alternative='two-sided', method=...) -> statistic, pvalue,
  plus "expect_method", the p-value method scipy 1.10 ends up using: in 'auto' it is 'exact' when
  max(n1, n2) <= 10000 (MAX_AUTO_N in scipy/stats/_stats_py.py), otherwise 'asymp'.
- "kstwo": scipy.stats.kstwo.sf(x, n) and .cdf(x, n) on a grid that reaches every branch of scipy's
  _kolmogn (Ruben-Gambino ends, exact 2*smirnov for x >= 0.5, Durbin matrix, Pomeranz, Miller
  2*smirnov, Pelz-Good, and the n > 10**6 Smirnov approximation). The asymptotic two-sample p-value
  is kstwo.sf(D, round(n1*n2/(n1+n2))).
auc.json
- "cases": positives, negatives and the ROC AUC with ties counted 1/2, computed as
  scipy.stats.mannwhitneyu(positives, negatives).statistic / (n_pos * n_neg) (U of the first sample).
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import stats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'stats')
MAX_AUTO_N = 10000


def clean(x):
    """float64 -> JSON number (repr), NaN -> None."""
    x = float(x)
    return None if math.isnan(x) else x


def gen_values(spec):
    i = np.arange(spec['n'], dtype=np.int64)
    ints = (spec['a'] * i + spec['c']) % spec['m']
    return ints.astype(np.float64) * spec['scale'] + spec['shift']


def expect_method(n1, n2, method):
    if method == 'auto':
        return 'exact' if max(n1, n2) <= MAX_AUTO_N else 'asymp'
    if method == 'exact':
        g = math.gcd(n1, n2)
        return 'asymp' if (n1 // g) >= np.iinfo(np.int32).max / (n2 // g) else 'exact'
    return 'asymp'


def ks_cases():
    cases = []

    def add(name, a, b, method='auto', a_gen=None, b_gen=None):
        # Random draws are rounded to 6 decimals to keep the file small; what is stored is exactly what
        # scipy saw.
        xa = gen_values(a_gen) if a_gen else np.round(np.asarray(a, dtype=np.float64), 6)
        xb = gen_values(b_gen) if b_gen else np.round(np.asarray(b, dtype=np.float64), 6)
        r = stats.ks_2samp(xa, xb, alternative='two-sided', method=method)
        case = {'name': name, 'method': method}
        if a_gen:
            case['a_gen'] = a_gen
        else:
            case['a'] = [float(v) for v in xa]
        if b_gen:
            case['b_gen'] = b_gen
        else:
            case['b'] = [float(v) for v in xb]
        case['statistic'] = clean(r.statistic)
        case['pvalue'] = clean(r.pvalue)
        case['expect_method'] = expect_method(len(xa), len(xb), method)
        cases.append(case)

    rs = np.random.RandomState
    # Tiny and unequal sizes.
    add('1 vs 1, different', [0.5], [1.5])
    add('1 vs 1, equal', [2.0], [2.0])
    add('1 vs 2', [0.0], [1.0, 2.0])
    add('3 vs 2', [0.1, 0.4, 0.9], [0.2, 0.3])
    add('5 vs 7 normal', rs(1).normal(size=5), rs(2).normal(size=7))
    add('2 vs 9', rs(3).normal(size=2), rs(4).normal(0.5, 1, size=9))
    # Identical and disjoint samples.
    same = rs(5).normal(size=40)
    add('identical 40', same, same.copy())
    add('disjoint 10 vs 15', np.arange(10.0), np.arange(100.0, 115.0))
    add('disjoint 40 vs 40', np.arange(40.0), np.arange(40.0) + 1000.0)
    add('disjoint 30 vs 40', np.arange(30.0), np.arange(40.0) + 1000.0)
    add('interleaved 20 vs 20', np.arange(0.0, 40.0, 2.0), np.arange(1.0, 41.0, 2.0))
    # Heavy ties (within and across samples): D is taken on the pooled sorted values.
    add('ties ints 20 vs 30', rs(6).randint(0, 4, size=20), rs(7).randint(0, 4, size=30))
    add('ties ints 50 vs 50', rs(8).randint(0, 3, size=50), rs(9).randint(1, 4, size=50))
    add('all equal 12 vs 8', np.full(12, 3.0), np.full(8, 3.0))
    add('ties rounded 60 vs 45', np.round(rs(10).normal(size=60), 1), np.round(rs(11).normal(0.3, 1, size=45), 1))
    add('ties one value 25 vs 25', np.r_[np.zeros(20), np.ones(5)], np.r_[np.zeros(10), np.ones(15)])
    # Coprime and lopsided sizes.
    add('37 vs 41', rs(12).normal(size=37), rs(13).normal(0.4, 1, size=41))
    add('100 vs 7', rs(14).normal(size=100), rs(15).normal(size=7))
    add('13 vs 500', rs(16).uniform(size=13), rs(17).uniform(size=500) ** 1.5)
    add('120 vs 80 shifted', rs(18).normal(size=120), rs(19).normal(0.6, 1, size=80))
    # TOFU-like: per-item truth ratios in (0, 1) for forget01/05/10 (40/200/400 items).
    for n, m, sa, sb, shift in [(40, 40, 20, 21, 0.0), (40, 40, 22, 23, 0.25), (200, 200, 24, 25, 0.05),
                                (200, 200, 26, 27, 0.2), (400, 400, 28, 29, 0.03), (400, 400, 30, 31, 0.15),
                                (40, 200, 32, 33, 0.1), (400, 200, 34, 35, 0.1)]:
        a = rs(sa).beta(2, 5, size=n)
        b = np.clip(rs(sb).beta(2, 5, size=m) + shift, 0, 1)
        add(f'tofu {n} vs {m} shift {shift}', a, b)
    # Tiny p-values that stay exact (no 1 - x cancellation in scipy's recursion).
    add('far apart 200 vs 150', rs(36).normal(size=200), rs(37).normal(3, 1, size=150))
    # The same data with the asymptotic method forced: every branch of the Kolmogorov SF.
    for n, m, sa, sb, shift in [(40, 40, 38, 39, 0.3), (200, 200, 40, 41, 0.1), (400, 400, 42, 43, 0.05),
                                (30, 45, 44, 45, 0.0), (150, 500, 46, 47, 0.35)]:
        a = rs(sa).normal(size=n)
        b = rs(sb).normal(shift, 1, size=m)
        add(f'asymp forced {n} vs {m} shift {shift}', a, b, method='asymp')
    add('asymp forced 1 vs 1 (effective n rounds to 0)', [0.0], [1.0], method='asymp')
    add('asymp forced 1 vs 2', [0.0], [1.0, 2.0], method='asymp')
    add('exact forced 37 vs 41', rs(48).normal(size=37), rs(49).normal(0.2, 1, size=41), method='exact')
    # Around the exact/asymptotic boundary (max(n1, n2) <= 10000 is exact in 'auto').
    g = lambda n, a, c, m, scale, shift: {'n': n, 'a': a, 'c': c, 'm': m, 'scale': scale, 'shift': shift}
    add('auto 10000 vs 20 (exact)', None, None, a_gen=g(10000, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(20, 31, 3, 97, 0.07, 0.3))
    add('auto 10001 vs 20 (asymp)', None, None, a_gen=g(10001, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(20, 31, 3, 97, 0.07, 0.3))
    add('exact forced 10001 vs 20', None, None, a_gen=g(10001, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(20, 31, 3, 97, 0.07, 0.3), method='exact')
    add('auto 10000 vs 10000 (exact, equal sizes)', None, None, a_gen=g(10000, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(10000, 6007, 5, 9973, 0.001, 0.2))
    add('auto 3000 vs 2000 (exact)', None, None, a_gen=g(3000, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(2000, 6007, 5, 9973, 0.001, 0.4))
    add('auto 9999 vs 4000 (exact)', None, None, a_gen=g(9999, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(4000, 6007, 5, 9973, 0.001, 0.3))
    add('auto 20000 vs 15000 (asymp)', None, None, a_gen=g(20000, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(15000, 6007, 5, 9973, 0.001, 0.15))
    add('auto 12000 vs 300 (asymp)', None, None, a_gen=g(12000, 7919, 11, 10007, 0.001, 0.0),
        b_gen=g(300, 131, 7, 1009, 0.01, 0.8))
    add('auto 12000 vs 300 ties (asymp)', None, None, a_gen=g(12000, 7919, 11, 50, 0.5, 0.0),
        b_gen=g(300, 131, 7, 50, 0.5, 1.0))
    add('auto 250000 vs 240000 (asymp, Pelz-Good)', None, None, a_gen=g(250000, 7919, 11, 100003, 1e-05, 0.0),
        b_gen=g(240000, 6007, 5, 99991, 1e-05, 0.003))
    return cases


def kstwo_cases():
    out = []
    grid = {
        1: [0.2, 0.5, 0.75, 0.99],
        2: [0.1, 0.3, 0.5, 0.6, 0.9],
        3: [0.2, 0.34, 0.5, 0.7],
        5: [0.05, 0.15, 0.3, 0.45, 0.55, 0.85],
        10: [0.06, 0.12, 0.2, 0.27, 0.35, 0.5, 0.7, 0.95],
        40: [0.02, 0.1, 0.13, 0.2, 0.3, 0.34, 0.4, 0.6],
        100: [0.006, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.5],
        140: [0.05, 0.073, 0.1, 0.169, 0.18, 0.3],
        141: [0.05, 0.1, 0.125, 0.2],
        200: [0.004, 0.03, 0.06, 0.09, 0.105, 0.2, 0.4, 0.995],
        1000: [0.0006, 0.01, 0.03, 0.045, 0.05, 0.1, 0.7],
        10000: [0.0012, 0.003, 0.005, 0.01, 0.015, 0.03],
        100000: [0.0005, 0.0007, 0.001, 0.002, 0.004, 0.005, 0.01],
        100001: [0.0005, 0.002, 0.004],
        2000000: [0.0004, 0.0008, 0.0011, 0.002],
    }
    for n, xs in grid.items():
        for x in xs:
            out.append({'n': n, 'x': x, 'sf': clean(stats.kstwo.sf(x, n)), 'cdf': clean(stats.kstwo.cdf(x, n))})
    return out


def auc_cases():
    cases = []
    rs = np.random.RandomState

    def add(name, pos, neg):
        pos = np.round(np.asarray(pos, dtype=np.float64), 6)
        neg = np.round(np.asarray(neg, dtype=np.float64), 6)
        u = stats.mannwhitneyu(pos, neg, alternative='two-sided').statistic
        cases.append({'name': name, 'positives': [float(v) for v in pos], 'negatives': [float(v) for v in neg],
                      'auc': clean(u / (len(pos) * len(neg)))})

    add('hand 3 vs 3 with ties', [1, 2, 3], [2, 2, 0])
    add('perfect', [5, 6, 7], [1, 2])
    add('reversed', [1, 2], [5, 6, 7])
    add('all equal', [1, 1, 1], [1, 1])
    add('single pair tie', [0.5], [0.5])
    add('normal 50 vs 70', rs(1).normal(0.5, 1, size=50), rs(2).normal(size=70))
    add('rounded ties 80 vs 60', np.round(rs(3).normal(0.3, 1, size=80), 1), np.round(rs(4).normal(size=60), 1))
    add('ints heavy ties 40 vs 40', rs(5).randint(0, 5, size=40), rs(6).randint(0, 4, size=40))
    add('lopsided 5 vs 300', rs(7).normal(1, 1, size=5), rs(8).normal(size=300))
    add('mia-like 400 vs 400', rs(9).gamma(2.0, 1.1, size=400), rs(10).gamma(2.0, 1.0, size=400))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {'scipy': scipy.__version__, 'numpy': np.__version__, 'script': 'scripts/make-stats-fixtures.py'}
    ks = {'meta': meta, 'cases': ks_cases(), 'kstwo': kstwo_cases()}
    auc = {'meta': meta, 'cases': auc_cases()}
    for name, obj in [('ks.json', ks), ('auc.json', auc)]:
        path = os.path.join(OUT, name)
        with open(path, 'w') as f:
            json.dump(obj, f, separators=(',', ':'))
            f.write('\n')
        print(f'wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path)} bytes)')


if __name__ == '__main__':
    main()
