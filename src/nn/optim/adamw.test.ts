/**
 * AdamW against values computed by hand (the update formula below, evaluated in double precision),
 * plus param groups, skipped parameters, state save/restore and argument checks.
 * Tolerance: 2e-6 absolute on parameters of magnitude <= 2 (float32 storage between steps; a
 * native kernel may also round each operation to float32). Save/restore is compared exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, param, setGrad } from '../../../test/helpers/nn-params.ts';
import { CheckpointError, ConfigError } from '../../errors.ts';
import { AdamW } from './adamw.ts';

const TOL = 2e-6;

// Step t, per element: p *= 1 − lr·wd; m = 0.9m + 0.1g; v = 0.999v + 0.001g²;
// p −= lr·(m/(1−0.9^t)) / (sqrt(v/(1−0.999^t)) + 1e-8). On step 1 this is p −= lr·sign(g) (g ≠ 0).
test('AdamW: two steps without weight decay match the hand-computed values', () => {
  const p = param([1, -2, 0.5]);
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0 });
  setGrad(p, [0.5, -1, 0]);
  opt.step();
  assertClose(p.f32, [0.9, -1.9, 0.5], TOL, 'step 1');
  setGrad(p, [-0.25, 2, 1e-3]);
  opt.step();
  assertClose(p.f32, [0.8733662987078463, -1.9366103534720749, 0.4255873697336899], TOL, 'step 2');
});

test('AdamW: decoupled weight decay p ← p − lr·wd·p before the Adam update', () => {
  const p = param([1, -2, 0.5]);
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.1 });
  setGrad(p, [0.5, -1, 0]);
  opt.step();
  // 1·0.99 − 0.1 = 0.89; −2·0.99 + 0.1 = −1.88; 0.5·0.99 = 0.495 (zero gradient: decay only).
  assertClose(p.f32, [0.89, -1.88, 0.495], TOL, 'step 1');
  setGrad(p, [-0.25, 2, 1e-3]);
  opt.step();
  assertClose(p.f32, [0.8544662986878463, -1.897810353462075, 0.41563736973368987], TOL, 'step 2');
});

test('AdamW: default weight decay is 0.01 (PyTorch)', () => {
  const p = param([3]);
  const opt = new AdamW([p], { lr: 0.1 });
  setGrad(p, [0.7]);
  opt.step();
  assertClose(p.f32, [2.8970000014285713], TOL); // 3·(1 − 0.001) − 0.1
});

test('AdamW: param groups use their own lr and weight decay; params without grad are skipped', () => {
  const w = param([0.5, -0.5, 1, 2], [2, 2]);
  const b = param([0.1, 0.2]);
  const late = param([3]);
  const opt = new AdamW(
    [
      { params: [w], weightDecay: 0.1 },
      { params: [b, late], lr: 0.05, weightDecay: 0 },
    ],
    { lr: 0.1, weightDecay: 0.5 },
  );
  assert.equal(opt.groups[0].lr, 0.1);
  assert.equal(opt.groups[1].weightDecay, 0);
  setGrad(w, [1, 2, 3, 4]);
  setGrad(b, [0.3, -0.3]);
  opt.step(); // `late` has no grad: untouched, its step count stays 0
  assertClose(w.f32, [0.395000001, -0.5949999995, 0.8900000003333333, 1.88000000025], TOL, 'w step 1');
  assertClose(b.f32, [0.05000000166666661, 0.24999999833333342], TOL, 'b step 1');
  assert.deepEqual([...late.f32], [3]);
  assert.equal(opt.state().params[2], null);
  setGrad(w, [-1, 0.5, 0, 2]);
  setGrad(b, [0.1, 0.1]);
  setGrad(late, [0.7]);
  opt.step();
  assertClose(
    w.f32,
    [0.3963131588321052, -0.6721097523026385, 0.8140941752322935, 1.7679820366611851],
    TOL,
    'w step 2',
  );
  assertClose(b.f32, [0.006446806078597808, 0.2700109260359596], TOL, 'b step 2');
  // late's first step (t = 1, bias correction of a first step): 3 − 0.05·sign(0.7).
  assertClose(late.f32, [2.95], TOL, 'late');
  assert.deepEqual(
    opt.state().params.map((s) => s?.step),
    [2, 2, 1],
  );
});

test('AdamW: setLr scales every group, keeping its ratio to the base lr', () => {
  const a = param([1]);
  const b = param([1]);
  const opt = new AdamW([{ params: [a] }, { params: [b], lr: 0.05 }], { lr: 0.1 });
  opt.setLr(0.01);
  assert.equal(opt.lr, 0.01);
  assert.equal(opt.groups[0].lr, 0.01);
  assertClose([opt.groups[1].lr], [0.005], 1e-15);
});

test('AdamW: state() / loadState() continue training bit-exactly', () => {
  const grads = (k: number) => [Math.sin(k), Math.cos(3 * k) * 0.1, -0.5 + 0.01 * k, k % 2 === 0 ? 0 : 1e-4];
  const build = () => {
    const w = param([0.3, -0.7], [1, 2]);
    const b = param([0.01, 2]);
    return {
      w,
      b,
      opt: new AdamW([{ params: [w] }, { params: [b], weightDecay: 0 }], { lr: 0.02, weightDecay: 0.1 }),
    };
  };
  const stepWith = (m: ReturnType<typeof build>, k: number) => {
    const g = grads(k);
    setGrad(m.w, g.slice(0, 2));
    setGrad(m.b, g.slice(2));
    m.opt.step();
  };
  const a = build();
  for (let k = 0; k < 3; k++) stepWith(a, k);
  const saved = a.opt.state();
  const savedW = a.w.f32.slice();
  const savedB = a.b.f32.slice();
  a.opt.setLr(0.5); // must not leak into the snapshot
  a.opt.loadState(saved);
  for (let k = 3; k < 6; k++) stepWith(a, k);

  const c = build();
  c.w.f32.set(savedW);
  c.b.f32.set(savedB);
  c.opt.loadState(saved);
  for (let k = 3; k < 6; k++) stepWith(c, k);
  assert.deepEqual(c.w.f32, a.w.f32);
  assert.deepEqual(c.b.f32, a.b.f32);
  assert.deepEqual(c.opt.state(), a.opt.state());
  assert.deepEqual(saved.lrs, [0.02, 0.02]);
});

test('AdamW: loadState rejects a state that does not fit, changing nothing', () => {
  const p = param([1, 2]);
  p.name = 'layer.weight';
  const opt = new AdamW([p], { lr: 0.1 });
  setGrad(p, [1, 1]);
  opt.step();
  const good = opt.state();
  const wrongSize = { ...good, params: [{ ...good.params[0]!, v: new Float32Array(3) }] };
  assert.throws(
    () => opt.loadState(wrongSize),
    (e: Error) => e instanceof CheckpointError && /v of parameter 0 \(layer.weight\)/.test(e.message),
  );
  const wrongName = { ...good, params: [{ ...good.params[0]!, name: 'other' }] };
  assert.throws(() => opt.loadState(wrongName), CheckpointError);
  assert.throws(() => opt.loadState({ ...good, params: [] }), /number of parameters differs/);
  assert.throws(() => opt.loadState({ ...good, lrs: [0.1, 0.1] }), /number of parameter groups/);
  assert.deepEqual(opt.state(), good);
});

test('AdamW: invalid arguments are ConfigErrors', () => {
  const p = param([1]);
  assert.throws(() => new AdamW([p], { lr: -1 }), ConfigError);
  assert.throws(() => new AdamW([p], { lr: 0.1, betas: [0.9, 1] }), ConfigError);
  assert.throws(() => new AdamW([p], { lr: 0.1, eps: Number.NaN }), ConfigError);
  assert.throws(() => new AdamW([p, p], { lr: 0.1 }), /appears more than once/);
  assert.throws(() => new AdamW([], { lr: 0.1 }), /empty parameter list/);
  assert.throws(() => new AdamW([p.mul(2)], { lr: 0.1 }), /not a leaf/);
});
