/**
 * Derived metrics and intervals: relearn recovery (registered, n/a when the run did not move),
 * closeness with uncertainty, and the bootstrap intervals' coverage of hand-checkable cases.
 * Tolerances: 1e-12 for closed forms; bootstrap bounds are checked against their definition
 * (within the data's range, around the estimate), not against fixed numbers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { closenessEntry } from './closeness.ts';
import { meanInterval, pairedInterval, twoSampleInterval } from './intervals.ts';
import { getMetric } from './metrics/index.ts';
import { runMetric } from './run-metric.ts';
import { rocAuc } from './stats/index.ts';
import type { MetricContext, MetricResultLike, ModelRole } from './types.ts';

/** A derived-metric context over stored results (no model is touched). */
function ctxOver(role: ModelRole, stored: Record<string, Partial<Record<ModelRole, MetricResultLike>>>) {
  return {
    role,
    oracle: {},
    target: {},
    model: {},
    results: (name: string, r: ModelRole) => stored[name]?.[r],
    names: Object.keys(stored),
    metric: getMetric,
    log() {},
  } as unknown as MetricContext;
}

const relearn = (before: number[], after: number[]): MetricResultLike => {
  const ids = before.map((_, i) => `q${i}`);
  return {
    value: after.reduce((a, b) => a + b, 0) / after.length,
    perItem: { heldOut: { ids, values: after }, before: { ids, values: before } },
  };
};

describe('robustness.relearnRecovery', () => {
  const target = Array.from({ length: 20 }, (_, i) => 0.5 + 0.05 * (i % 5));
  test('(b̄ − ā) / (b̄ − b̄_T) on the held-back items, with a paired interval', async () => {
    const before = target.map((t) => t + 1);
    const after = target.map((t) => t + 0.5);
    const ctx = ctxOver('unlearned', {
      'robustness.relearn': { unlearned: relearn(before, after), target: relearn(target, target) },
    });
    const { result } = await runMetric(getMetric('robustness.relearnRecovery'), ctx);
    assert.ok('value' in result && result.value !== null, JSON.stringify(result));
    assert.ok(Math.abs(result.value - 0.5) < 1e-12);
    // Every item moved by the same amounts: the interval collapses onto the value.
    assert.ok(Math.abs(result.ci!.lo! - 0.5) < 1e-12 && Math.abs(result.ci!.hi! - 0.5) < 1e-12);
  });
  test('a run that did not move beyond noise is n/a with the reason, not 0% or 100%', async () => {
    // Mean rise +0.01 from per-item noise of ±0.3: the study's old rule (rise > 1e-6) gave a value.
    const before = target.map((t, i) => t + (i % 2 === 0 ? 0.31 : -0.29));
    const after = before.map((b) => b - 0.2);
    const ctx = ctxOver('unlearned', {
      'robustness.relearn': { unlearned: relearn(before, after), target: relearn(target, target) },
    });
    const { result } = await runMetric(getMetric('robustness.relearnRecovery'), ctx);
    assert.ok('skipped' in result, JSON.stringify(result));
    assert.match(result.skipped, /^n\/a: the run did not move .*includes 0/);
  });
  test('n/a for the target; skipped with the reason when the relearning check did not run', async () => {
    const stored = {
      'robustness.relearn': { unlearned: relearn(target, target), target: relearn(target, target) },
    };
    const t = await runMetric(getMetric('robustness.relearnRecovery'), ctxOver('target', stored));
    assert.match(JSON.stringify(t.result), /n\/a: the target is the reference/);
    const none = await runMetric(getMetric('robustness.relearnRecovery'), ctxOver('unlearned', {}));
    assert.match(JSON.stringify(none.result), /needs robustness.relearn, which was not evaluated/);
  });
});

describe('closeness with uncertainty', () => {
  test('a target–oracle gap inside the intervals is left out (the 1% rule alone let it in)', () => {
    // Gap 0.02 (2% of scale: the old rule included it, and gapLeft = 0.62/0.02 = 31 swamped the mean).
    const v = { unlearned: 1.62, oracle: 1.0, target: 1.02 };
    assert.equal(closenessEntry(v).included, true, 'without intervals: the relative rule');
    const e = closenessEntry({ ...v, oracleHalfWidth: 0.05, targetHalfWidth: 0.05 });
    assert.equal(e.included, false);
    assert.equal(e.uncertainty, 0.1);
    assert.match(e.reason!, /within uncertainty/);
    const f = closenessEntry({
      unlearned: 1.1,
      oracle: 1.0,
      target: 2.0,
      oracleHalfWidth: 0.05,
      targetHalfWidth: 0.05,
    });
    assert.ok(f.included && Math.abs(f.gapLeft! - 0.1) < 1e-9);
  });
  test('closeness.gapLeft states how many metrics it used of how many', async () => {
    const r = (value: number, hw: number): MetricResultLike => ({
      value,
      ci: { lo: value - hw, hi: value + hw, level: 0.95, method: 't', resamples: 1, items: 1 },
    });
    const stored = {
      a: { unlearned: r(0.5, 0), oracle: r(0, 0.01), target: r(1, 0.01) },
      b: { unlearned: r(3, 0), oracle: r(1, 0.1), target: r(1.05, 0.1) },
    };
    const ctx = { ...ctxOver('unlearned', stored), names: ['tofu.forget.prob', 'tofu.forget.rouge'] };
    const alias: Record<string, string> = { 'tofu.forget.prob': 'a', 'tofu.forget.rouge': 'b' };
    ctx.results = (name, role) => stored[alias[name] as 'a' | 'b']?.[role];
    const { result } = await runMetric(getMetric('closeness.gapLeft'), ctx);
    assert.ok('value' in result && result.extra, JSON.stringify(result));
    assert.ok(Math.abs(result.value! - 0.5) < 1e-8, `${result.value}`);
    assert.equal(result.extra.included, 1);
    assert.equal(result.extra.considered, 2);
  });
});

describe('bootstrap intervals', () => {
  test('mean: seeded by the items (same bytes twice), inside the data range, around the mean', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `i${i}`);
    const values = ids.map((_, i) => Math.sin(i) + 1);
    const a = meanInterval(ids, values);
    assert.deepEqual(a, meanInterval(ids, values));
    const m = values.reduce((s, x) => s + x, 0) / values.length;
    assert.ok(a.lo! < m && m < a.hi! && a.lo! >= Math.min(...values) && a.hi! <= Math.max(...values));
    assert.equal(a.items, 50);
    assert.equal(a.resamples, 1000);
    // Width shrinks like 1/√n: four copies of the data give about half the width.
    const ids4 = Array.from({ length: 200 }, (_, i) => `j${i}`);
    const b = meanInterval(ids4, [...values, ...values, ...values, ...values]);
    const ratio = (b.hi! - b.lo!) / (a.hi! - a.lo!);
    assert.ok(ratio > 0.4 && ratio < 0.6, `width ratio ${ratio}`);
    // Non-finite values are left out, as the mean leaves them out; none at all gives null bounds.
    assert.equal(meanInterval(['x', 'y'], [Number.NaN, 1]).items, 1);
    assert.equal(meanInterval(['x'], [Number.NaN]).lo, null);
  });
  test('AUC: classes resampled separately; perfect separation gives [1, 1]', () => {
    const pos = [5, 6, 7, 8];
    const neg = [1, 2, 3];
    const ci = twoSampleInterval(pos, neg, (p, n) => rocAuc(p, n), 'auc');
    assert.equal(ci.lo, 1);
    assert.equal(ci.hi, 1);
    const mixed = twoSampleInterval([1, 3, 5, 7], [2, 4, 6, 8], (p, n) => rocAuc(p, n), 'auc');
    assert.ok(mixed.lo! < 0.375 && 0.375 < mixed.hi!);
  });
  test('paired: the same draws apply to every array', () => {
    const x = [1, 2, 3, 4, 5];
    const ci = pairedInterval([x, x.map((v) => v + 2)], ([a, b]) => b[0] - a[0], 'pair');
    assert.equal(ci.lo, 2);
    assert.equal(ci.hi, 2);
  });
});
