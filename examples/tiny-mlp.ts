/**
 * A two-layer MLP learns the two-moons toy task with AdamW: a short tour of the tensor API
 * (tensors, modules, autograd, optimiser, schedule). Seeded, so every run prints the same numbers.
 * Run: npm run example:mlp   (LETHE_BACKEND=js for the reference backend)
 */
import { AdamW, cosineSchedule, Linear, Module } from '../src/nn/index.ts';
import { crossEntropy, noGrad, Rng, type Tensor, tensor } from '../src/tensor/index.ts';

// Two interleaved half circles with noise; the label says which one a point is on.
function twoMoons(n: number, rng: Rng): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(2 * n);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = Math.PI * rng.uniform();
    ys[i] = i % 2;
    xs[2 * i] = (ys[i] ? 1 - Math.cos(t) : Math.cos(t)) + 0.1 * rng.normal();
    xs[2 * i + 1] = (ys[i] ? 0.5 - Math.sin(t) : Math.sin(t)) + 0.1 * rng.normal();
  }
  return { x: tensor(xs, [n, 2]), y: tensor(ys, [n]) };
}

class Mlp extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(hidden: number, rng: Rng) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(2, hidden, { rng, std: 0.7 }));
    this.fc2 = this.registerModule('fc2', new Linear(hidden, 2, { rng, std: 0.2 }));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).tanh()); // (N, 2) logits
  }
}

const rng = new Rng(42);
const train = twoMoons(256, rng);
const test = twoMoons(256, rng);
const model = new Mlp(32, rng);
const steps = 300;
const opt = new AdamW(model.parameters(), { lr: 0.05, weightDecay: 0.01 });
const schedule = cosineSchedule({ lr: 0.05, warmupSteps: 10, totalSteps: steps, minLr: 0.005 });
console.log(`MLP with ${model.numParameters()} parameters, ${steps} full-batch AdamW steps`);

for (let step = 0; step < steps; step++) {
  opt.setLr(schedule(step));
  const loss = crossEntropy(model.forward(train.x), train.y); // scalar mean over the batch
  opt.zeroGrad();
  loss.backward();
  opt.step();
  if (step % 50 === 0 || step === steps - 1) console.log(`step ${step}  loss ${loss.item().toFixed(4)}`);
}

const accuracy = (d: { x: Tensor; y: Tensor }): number =>
  noGrad(() => {
    const logits = model.forward(d.x).f32; // (N, 2)
    return (
      d.y.i32.filter((label, i) => Number(logits[2 * i + 1] > logits[2 * i]) === label).length / d.y.size
    );
  });
console.log(
  `accuracy: train ${(100 * accuracy(train)).toFixed(1)}%, held-out ${(100 * accuracy(test)).toFixed(1)}%`,
);
