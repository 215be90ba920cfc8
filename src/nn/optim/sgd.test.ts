/**
 * SGD against hand-computed values for plain, momentum, dampening, Nesterov and weight-decay
 * variants (three steps each, p = (1, −1), lr = 0.1, gradients (1, 2), (0.5, −1), (0, 1)), plus
 * state save/restore. Tolerance: 1e-6 absolute (float32 storage between steps); restore is exact.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, param, setGrad } from '../../../test/helpers/nn-params.ts';
import { ConfigError } from '../../errors.ts';
import { SGD, type SGDOptions } from './sgd.ts';

const TOL = 1e-6;
const GRADS = [
  [1, 2],
  [0.5, -1],
  [0, 1],
];

function run(opts: Omit<SGDOptions, 'lr'>): number[][] {
  const p = param([1, -1]);
  const opt = new SGD([p], { lr: 0.1, ...opts });
  return GRADS.map((g) => {
    setGrad(p, g);
    opt.step();
    return [...p.f32];
  });
}

function check(got: number[][], expected: number[][]): void {
  for (const [k, row] of got.entries()) assertClose(row, expected[k], TOL, `step ${k + 1}`);
}

test('SGD: plain p ← p − lr·g', () => {
  check(run({}), [
    [0.9, -1.2],
    [0.85, -1.1],
    [0.85, -1.2],
  ]);
});

test('SGD: momentum, first step b = g then b ← 0.9b + g', () => {
  // b1 = (1, 2); b2 = (1.4, 0.8); b3 = (1.26, 1.72).
  check(run({ momentum: 0.9 }), [
    [0.9, -1.2],
    [0.76, -1.28],
    [0.634, -1.452],
  ]);
});

test('SGD: dampening scales the new gradient by (1 − dampening) after the first step', () => {
  // b1 = (1, 2) (no dampening on the first step); b2 = 0.9·b1 + 0.5·g2 = (1.15, 1.3).
  check(run({ momentum: 0.9, dampening: 0.5 }), [
    [0.9, -1.2],
    [0.785, -1.33],
    [0.6815, -1.497],
  ]);
});

test('SGD: Nesterov uses g + μ·b', () => {
  // Step 1: b = g = (1, 2), update g + 0.9b = (1.9, 3.8).
  check(run({ momentum: 0.9, nesterov: true }), [
    [0.81, -1.38],
    [0.634, -1.352],
    [0.5206, -1.6068],
  ]);
});

test('SGD: coupled weight decay g ← g + wd·p (gradient itself unchanged)', () => {
  check(run({ momentum: 0.9, weightDecay: 0.1 }), [
    [0.89, -1.19],
    [0.7321, -1.2491],
    [0.582669, -1.389799],
  ]);
  const p = param([1]);
  setGrad(p, [2]);
  new SGD([p], { lr: 0.1, weightDecay: 0.5 }).step();
  assert.deepEqual([...p.grad!.f32], [2]);
});

test('SGD: groups, skipped parameters and bit-exact state restore', () => {
  const build = () => {
    const a = param([1, 2]);
    const b = param([-1]);
    return { a, b, opt: new SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1, momentum: 0.9 }) };
  };
  const x = build();
  setGrad(x.a, [0.3, 0.1]);
  x.opt.step(); // b has no grad: skipped, no buffer
  assert.deepEqual([...x.b.f32], [-1]);
  assert.equal(x.opt.state().params[1], null);
  setGrad(x.b, [0.7]);
  x.opt.step();
  const saved = x.opt.state();
  const savedA = x.a.f32.slice();
  const savedB = x.b.f32.slice();
  setGrad(x.a, [-0.2, 0.05]);
  setGrad(x.b, [0.1]);
  x.opt.step();

  const y = build();
  y.a.f32.set(savedA);
  y.b.f32.set(savedB);
  y.opt.loadState(saved);
  setGrad(y.a, [-0.2, 0.05]);
  setGrad(y.b, [0.1]);
  y.opt.step();
  assert.deepEqual(y.a.f32, x.a.f32);
  assert.deepEqual(y.b.f32, x.b.f32);
});

test('SGD: invalid arguments are ConfigErrors', () => {
  const p = param([1]);
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), ConfigError);
  assert.throws(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), ConfigError);
  assert.throws(() => new SGD([p], { lr: 0.1, momentum: -0.1 }), ConfigError);
  assert.throws(() => new SGD([p], { lr: Number.POSITIVE_INFINITY }), ConfigError);
});
