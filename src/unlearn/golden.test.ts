/**
 * Golden values from PyTorch (fixtures/make-golden.py, float64) for the loss terms and tools that
 * had no reference: DPO, KL(p_ref ‖ p_θ), RMU's hidden MSE, the saliency scores (gradient
 * magnitude and WAGLE) and one Sophia step. The toy model is a bigram table, logits = W[ids] + c,
 * built here from the same numbers. Tolerances: float32 against float64, relative 1e-4 on values,
 * 1e-4 absolute + 1e-3 relative on gradients.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { CausalLM } from '../models/causal-lm.ts';
import { Sophia } from '../nn/index.ts';
import { add, gather, Tensor } from '../tensor/index.ts';
import { collate, type Example } from '../text/batch.ts';
import { dpoLoss, hiddenMse, klToReference } from './losses.ts';
import { saliencyMasks, saliencyScores } from './saliency.ts';

interface Golden {
  V: number;
  W: number[];
  c: number[];
  Wref: number[];
  cref: number[];
  forget: Example[];
  retain: Example[];
  kl: { value: number; gradW: number[]; gradC: number[] };
  dpo: {
    beta: number;
    logpW: number[];
    logpL: number[];
    refW: number[];
    refL: number[];
    value: number;
    gradW: number[];
    gradL: number[];
  };
  mse: { hidden: number[]; target: number[]; mask: number[]; value: number; grad: number[] };
  saliency: { batchSize: number; grad: { W: number[]; c: number[] }; wagle: { W: number[]; c: number[] } };
  sophia: { p: number[]; g: number[]; hessian: number[]; lr: number; weightDecay: number; after: number[] };
}

const g = JSON.parse(readFileSync(new URL('./fixtures/golden.json', import.meta.url), 'utf8')) as Golden;

function close(actual: ArrayLike<number>, expected: readonly number[], what: string, abs = 1e-4, rel = 1e-3) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tol = abs + rel * Math.abs(expected[i]);
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tol})`,
    );
  }
}

/** The bigram model of the fixture: logits (B, T, V) = W[inputs] + c. */
function bigram(W: number[], c: number[], grad: boolean) {
  const w = new Tensor(Float32Array.from(W), [g.V, g.V], grad);
  const b = new Tensor(Float32Array.from(c), [g.V], grad);
  const model = {
    forward: (inputs: Tensor) => ({ logits: add(gather(w, inputs), b) }),
  } as unknown as CausalLM;
  return { model, w, b };
}

const all = (xs: readonly Example[]) =>
  collate(
    xs,
    xs.map((_, i) => i),
  );

test('KL(p_ref ‖ p_θ) on scored retain tokens matches PyTorch (value and gradient)', () => {
  const m = bigram(g.W, g.c, true);
  const ref = bigram(g.Wref, g.cref, false);
  const kl = klToReference(m.model, ref.model, all(g.retain));
  close([kl.item()], [g.kl.value], 'KL', 0, 1e-4);
  kl.backward();
  close(m.w.grad!.f32, g.kl.gradW, 'dKL/dW');
  close(m.b.grad!.f32, g.kl.gradC, 'dKL/dc');
});

test('DPO loss −(2/β)·mean log σ(β·margin) matches PyTorch (value and gradients)', () => {
  const w = new Tensor(Float32Array.from(g.dpo.logpW), [4], true);
  const l = new Tensor(Float32Array.from(g.dpo.logpL), [4], true);
  const d = dpoLoss(w, Float32Array.from(g.dpo.refW), l, Float32Array.from(g.dpo.refL), g.dpo.beta);
  close([d.item()], [g.dpo.value], 'DPO', 0, 1e-4);
  d.backward();
  close(w.grad!.f32, g.dpo.gradW, 'dDPO/dlogpW');
  close(l.grad!.f32, g.dpo.gradL, 'dDPO/dlogpL');
});

test("RMU's hidden MSE over real tokens and channels matches PyTorch", () => {
  const h = new Tensor(Float32Array.from(g.mse.hidden), [2, 3, 4], true);
  const u = new Tensor(Float32Array.from(g.mse.target), [1, 1, 4]);
  const mse = hiddenMse(h, u, Float32Array.from(g.mse.mask));
  close([mse.item()], [g.mse.value], 'MSE', 0, 1e-4);
  mse.backward();
  close(h.grad!.f32, g.mse.grad, 'dMSE/dh');
});

test('saliency scores (grad and WAGLE) match PyTorch; the mask keeps exactly the top share', () => {
  for (const kind of ['grad', 'wagle'] as const) {
    const m = bigram(g.W, g.c, true);
    const params: [string, Tensor][] = [
      ['W', m.w],
      ['c', m.b],
    ];
    const opts = { kind, batchSize: g.saliency.batchSize };
    const scores = saliencyScores(m.model, g.forget, g.retain, params, opts);
    close(scores.get('W')!, g.saliency[kind].W, `${kind} scores of W`, 1e-6, 1e-3);
    close(scores.get('c')!, g.saliency[kind].c, `${kind} scores of c`, 1e-6, 1e-3);
    const masks = saliencyMasks(m.model, g.forget, g.retain, params, { ...opts, sparsity: 0.25 });
    const ranked = [...g.saliency[kind].W, ...g.saliency[kind].c].sort((a, b) => b - a);
    const keep = Math.round(0.25 * ranked.length);
    const kept = [...masks.get('W')!, ...masks.get('c')!];
    assert.equal(
      kept.reduce((s, x) => s + x, 0),
      keep,
      `${kind}: ${keep} weights kept`,
    );
    // Every kept weight scores at least as high as every dropped one (reference scores).
    const ref = [...g.saliency[kind].W, ...g.saliency[kind].c];
    const minKept = Math.min(...ref.filter((_, i) => kept[i] === 1));
    const maxDropped = Math.max(...ref.filter((_, i) => kept[i] === 0));
    assert.ok(minKept >= maxDropped, `${kind}: kept ${minKept} ≥ dropped ${maxDropped}`);
  }
});

test('one Sophia step matches the official update rule', () => {
  const p = new Tensor(Float32Array.from(g.sophia.p), [g.sophia.p.length], true);
  const opt = new Sophia([p], { lr: g.sophia.lr, weightDecay: g.sophia.weightDecay });
  p.grad = new Tensor(Float32Array.from(g.sophia.g), [g.sophia.g.length]);
  opt.updateHessian([Float32Array.from(g.sophia.hessian)]);
  opt.step();
  close(p.f32, g.sophia.after, 'θ after one step', 1e-6, 1e-5);
});
