/**
 * End-to-end: a 2-32-2 tanh MLP (Linear layers, crossEntropy, backward, clipGradNorm, AdamW with
 * a cosine schedule) learns the two-moons task from a fixed seed. Criterion: training accuracy
 * > 95% and loss below a tenth of its start, within 2 s of wall time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crossEntropy, noGrad, Rng, type Tensor, tensor } from '../tensor/index.ts';
import { Linear } from './layers.ts';
import { Module } from './module.ts';
import { AdamW } from './optim/adamw.ts';
import { clipGradNorm } from './optim/clip.ts';
import { decayGroups } from './optim/optimizer.ts';
import { cosineSchedule } from './optim/schedule.ts';

/** n points on two interleaved half circles with Gaussian noise; label = which moon. */
function twoMoons(n: number, noise: number, rng: Rng): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(2 * n);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const t = Math.PI * rng.uniform();
    xs[2 * i] = (label === 0 ? Math.cos(t) : 1 - Math.cos(t)) + noise * rng.normal();
    xs[2 * i + 1] = (label === 0 ? Math.sin(t) : 0.5 - Math.sin(t)) + noise * rng.normal();
    ys[i] = label;
  }
  return { x: tensor(xs, [n, 2]), y: tensor(ys, [n]) };
}

class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(hidden: number, rng: Rng) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(2, hidden, { rng, std: 1 / Math.sqrt(2) }));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, 2, { rng, std: 1 / Math.sqrt(hidden) }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh()); // (N, 2) logits
  }
}

function accuracy(logits: Tensor, y: Tensor): number {
  const l = logits.f32;
  let hits = 0;
  for (let i = 0; i < y.size; i++) if ((l[2 * i + 1] > l[2 * i] ? 1 : 0) === y.i32[i]) hits++;
  return hits / y.size;
}

test('a tiny MLP learns two moons to > 95% accuracy with AdamW', () => {
  const start = performance.now();
  const rng = new Rng(42);
  const { x, y } = twoMoons(256, 0.1, rng);
  const model = new Mlp(32, rng);
  const steps = 300;
  const opt = new AdamW(decayGroups(model.namedParameters(), 0.01), { lr: 0.05 });
  const schedule = cosineSchedule({ lr: 0.05, warmupSteps: 10, totalSteps: steps, minLr: 0.005 });
  let first = Number.NaN;
  let loss = Number.NaN;
  for (let step = 0; step < steps; step++) {
    opt.setLr(schedule(step));
    const l = crossEntropy(model.forward(x), y);
    loss = l.item();
    if (step === 0) first = loss;
    opt.zeroGrad();
    l.backward();
    assert.ok(Number.isFinite(clipGradNorm(model.parameters(), 1)));
    opt.step();
  }
  const acc = noGrad(() => accuracy(model.eval().forward(x), y));
  const ms = performance.now() - start;
  assert.ok(acc > 0.95, `accuracy ${acc}`);
  assert.ok(loss < first / 10, `loss ${first} -> ${loss}`);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});
