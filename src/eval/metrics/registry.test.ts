/**
 * The metric registry as a value: built from explicit lists, a duplicate name or a malformed
 * metric throws, and the catalog holds every family (robustness checks included) without any
 * module imported for its side effect.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../errors.ts';
import { robustnessChecks } from '../robustness/checks.ts';
import type { Metric } from '../types.ts';
import { METRICS, robustnessMetricNames } from './catalog.ts';
import { MetricRegistry } from './registry.ts';
import { perplexity } from './utility.ts';

const metric = (name: string, extra: Partial<Metric> = {}): Metric => ({
  name,
  label: name,
  direction: 'higher',
  format: 3,
  summary: 'test metric',
  compute: () => ({ value: 1 }),
  ...extra,
});

test('a registry built with a duplicate name throws, naming it', () => {
  assert.throws(
    () => new MetricRegistry([metric('a.x'), metric('b.y'), metric('a.x')]),
    (e: unknown) => e instanceof ConfigError && /a\.x is registered twice/.test(e.message),
  );
  const r = new MetricRegistry([metric('a.x')]);
  assert.throws(() => r.add(metric('a.x')), ConfigError);
  assert.deepEqual(r.names(), ['a.x']);
});

test('a malformed metric (unknown requirement, bad format, empty label) is refused', () => {
  assert.throws(() => new MetricRegistry([metric('a', { requires: ['split.nowhere.qa'] })]), ConfigError);
  assert.throws(() => new MetricRegistry([metric('a', { format: 'percent' as never })]), ConfigError);
  assert.throws(() => new MetricRegistry([metric('a', { label: ' ' })]), ConfigError);
  assert.throws(() => new MetricRegistry().get('missing'), /unknown metric "missing"/);
});

test('the catalog holds the families and the robustness checks, in list order', () => {
  assert.equal(METRICS.get('utility.perplexity'), perplexity);
  for (const n of ['tofu.forgetQuality', 'mem.el.forget', 'mia.minKpp', 'robustness.relearnRecovery'])
    assert.ok(METRICS.has(n), n);
  assert.deepEqual(
    robustnessMetricNames(),
    robustnessChecks.map((c) => `robustness.${c.name}`),
  );
  assert.deepEqual(robustnessMetricNames().slice(0, 3), [
    'robustness.relearn',
    'robustness.int8',
    'robustness.int4',
  ]);
});
