/**
 * LR schedules at their key steps (start, inside and end of warmup, middle and end of decay, past
 * the end) with HF's step convention, and argument validation. Tolerance: 1e-12 absolute (pure
 * double arithmetic).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../errors.ts';
import { constantSchedule, cosineSchedule, linearSchedule, makeSchedule } from './schedule.ts';

const TOL = 1e-12;
const near = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= TOL, `${what}: ${a} vs ${b}`);

test('constant: warmup from 0 then flat', () => {
  const s = constantSchedule({ lr: 0.1, warmupSteps: 4 });
  near(s(0), 0, 'step 0');
  near(s(1), 0.025, 'step 1');
  near(s(4), 0.1, 'end of warmup');
  near(s(1000), 0.1, 'late');
  near(constantSchedule({ lr: 3e-4 })(0), 3e-4, 'no warmup');
});

test('linear: HF get_linear_schedule_with_warmup', () => {
  const s = linearSchedule({ lr: 1, warmupSteps: 10, totalSteps: 110 });
  near(s(0), 0, 'step 0');
  near(s(5), 0.5, 'mid warmup');
  near(s(10), 1, 'peak');
  near(s(60), 0.5, 'half way down');
  near(s(109), 0.01, 'last step');
  near(s(110), 0, 'end');
  near(s(500), 0, 'past the end');
});

test('cosine: HF get_cosine_schedule_with_warmup, with a floor and held past the end', () => {
  const s = cosineSchedule({ lr: 1, warmupSteps: 10, totalSteps: 110 });
  near(s(0), 0, 'step 0');
  near(s(10), 1, 'peak');
  near(s(35), 0.5 * (1 + Math.cos(Math.PI / 4)), 'quarter');
  near(s(60), 0.5, 'middle');
  near(s(110), 0, 'end');
  near(s(200), 0, 'held past the end');
  const f = cosineSchedule({ lr: 1e-3, warmupSteps: 0, totalSteps: 100, minLr: 1e-4 });
  near(f(0), 1e-3, 'start');
  near(f(50), 1e-4 + 0.5 * 9e-4, 'middle with floor');
  near(f(100), 1e-4, 'floor');
  near(f(1000), 1e-4, 'floor held');
});

test('makeSchedule builds each kind from data', () => {
  near(makeSchedule({ kind: 'cosine', lr: 2, totalSteps: 4 })(2), 1, 'cosine');
  near(makeSchedule({ kind: 'linear', lr: 2, totalSteps: 4 })(1), 1.5, 'linear');
  near(makeSchedule({ kind: 'constant', lr: 2 })(7), 2, 'constant');
});

test('schedules validate their arguments and steps', () => {
  assert.throws(() => constantSchedule({ lr: -1 }), ConfigError);
  assert.throws(() => constantSchedule({ lr: 1, warmupSteps: 1.5 }), ConfigError);
  assert.throws(() => linearSchedule({ lr: 1, warmupSteps: 20, totalSteps: 10 }), /warmupSteps/);
  assert.throws(() => linearSchedule({ lr: 1, totalSteps: 0 }), /totalSteps/);
  assert.throws(() => cosineSchedule({ lr: 1, totalSteps: 10, minLr: 2 }), /minLr/);
  assert.throws(() => cosineSchedule({ lr: 1, totalSteps: 10 })(-1), /step/);
  assert.throws(() => makeSchedule({ kind: 'step' } as never), /kind/);
});
