/**
 * recoveryRate: the share of the target→unlearned gap an attack closes, for metrics of either
 * direction, clipped to [0, 1], NaN where it is undefined. Exact arithmetic on small decimals, so
 * values are compared within 1e-12.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recoveryRate } from './recovery.ts';

const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('recovery for a metric unlearning raises (NLL) and one it lowers (ROUGE)', () => {
  // NLL: target 0.5, unlearned 2.5, attacked 1.0 → (1.0 − 2.5)/(0.5 − 2.5) = 0.75.
  near(recoveryRate(2.5, 1.0, 0.5), 0.75);
  // ROUGE: target 0.9, unlearned 0.1, attacked 0.3 → 0.25.
  near(recoveryRate(0.1, 0.3, 0.9), 0.25);
  near(recoveryRate(0.1, 0.1, 0.9), 0);
  near(recoveryRate(0.1, 0.9, 0.9), 1);
});

test('clipping: a harmful attack recovers 0, overshooting recovers 1; unclipped on request', () => {
  assert.equal(recoveryRate(0.1, 0.05, 0.9), 0);
  assert.equal(recoveryRate(0.1, 1.0, 0.9), 1);
  near(recoveryRate(0.1, 0.05, 0.9, { clip: false }), -0.0625);
  near(recoveryRate(2.5, 0.0, 0.5, { clip: false }), 1.25);
});

test('degenerate cases are NaN: no gap to recover, non-finite inputs', () => {
  assert.ok(Number.isNaN(recoveryRate(0.5, 0.4, 0.5)));
  assert.ok(Number.isNaN(recoveryRate(0.5, 0.4, 0.5 + 1e-9)));
  assert.ok(Number.isNaN(recoveryRate(0.5, 0.4, 0.6, { minGap: 0.2 })));
  assert.ok(Number.isNaN(recoveryRate(Number.NaN, 0.4, 0.6)));
  assert.ok(Number.isNaN(recoveryRate(0.5, Number.POSITIVE_INFINITY, 0.6)));
  assert.ok(Number.isNaN(recoveryRate(0.5, 0.4, Number.NaN)));
});
