/**
 * `whp` — "Who's Harry Potter?" (Eldan & Russinovich 2023, arXiv:2310.02238), the reinforcement
 * bootstrapping half of it (the GPT-4 anchor-term dictionary is not reproduced):
 *  1. reinforced model = a copy of the model further trained on D_f;
 *  2. at every scored (answer) position of every forget example, generic logits
 *         v_g = v_base − α·ReLU(v_reinf − v_base),
 *     i.e. push down whatever the reinforcement pushed up;
 *  3. fine-tune the base model toward v_g on D_f.
 *
 * Choices (each a deliberate reading of the paper):
 *  - Logits are centred per position (mean over the vocabulary subtracted) before differencing.
 *    A softmax ignores a per-position constant, so raw logits of two models may differ by an
 *    arbitrary offset that would then act as a shifting threshold inside the ReLU; centring removes
 *    it while keeping how far the reinforced model pushed each token above the rest. (Log-softmax
 *    normalisation would also remove it, but erases the signal on tokens both models already give
 *    p ≈ 1 — exactly the memorised answers lethe's targets hold.)
 *  - Targets default to the soft distribution softmax(v_g) (cross-entropy to it), not the paper's
 *    hard argmax labels: on a memorised answer the suppression α·ReLU(·) is often smaller than the
 *    base model's margin, so the argmax stays the true token and hard labels would teach nothing;
 *    the soft target still moves mass off it, and elsewhere it equals the base distribution, which
 *    limits collateral change. `labels: 'argmax'` gives the paper's hard generic labels.
 *  - Only the reinforced model is extra in memory, and only until the targets are computed. The
 *    targets keep the top-k entries of softmax(v_g) per scored position, renormalised (k·8 bytes
 *    per position; topK 0 keeps the whole vocabulary); argmax keeps one.
 */
import { z } from 'zod';
import type { CausalLM } from '../../models/causal-lm.ts';
import { cloneModel } from '../../models/registry.ts';
import { IGNORE_INDEX, logSoftmax, mul, noGrad, sum, Tensor } from '../../tensor/index.ts';
import type { Batch, Example } from '../../text/batch.ts';
import { epochBatches } from '../../train/batching.ts';
import { type LossOutput, train } from '../../train/trainer.ts';
import { weightMethod } from '../define.ts';
import { logitsOf } from '../losses.ts';

const WhpArgs = z.object({
  /** α, the suppression strength in v_g = v_base − α·ReLU(v_reinf − v_base). */
  alpha: z.number().nonnegative().default(1),
  /** Reinforcement: optimiser steps on D_f (overrides reinforceEpochs), epochs, AdamW lr. */
  reinforceSteps: z.number().int().positive().optional(),
  reinforceEpochs: z.number().int().positive().default(5),
  reinforceLr: z.number().positive().default(1e-3),
  /** Fine-tuning toward the generic targets: steps (overrides finetuneEpochs), epochs, AdamW lr. */
  finetuneSteps: z.number().int().positive().optional(),
  finetuneEpochs: z.number().int().positive().default(5),
  finetuneLr: z.number().positive().default(1e-3),
  /** 'soft': cross-entropy to softmax(v_g); 'argmax': to argmax v_g (the paper's generic labels). */
  labels: z.enum(['soft', 'argmax']).default('soft'),
  /** Soft targets keep this many top entries per position (renormalised); 0 keeps all. */
  topK: z.number().int().nonnegative().default(32),
  batchSize: z.number().int().positive().default(8),
  maxLen: z.number().int().positive().default(256),
});

/** Sparse target distributions at the scored positions of one example, in position order. */
export interface GenericTargets {
  positions: number;
  k: number;
  /** positions × k token ids and their probabilities (each row sums to 1). */
  ids: Int32Array;
  probs: Float32Array;
}

/**
 * Indices of the k largest values (ties to the lower index), in descending order of value. A
 * size-k min-heap keeps this O(V log k) per position, which matters at 50k-token vocabularies.
 */
function topIndices(x: Float64Array, k: number): number[] {
  // "a ranks below b": smaller value, or equal value and larger index.
  const below = (a: number, b: number) => x[a] < x[b] || (x[a] === x[b] && a > b);
  const heap: number[] = [];
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && below(heap[l], heap[m])) m = l;
      if (r < heap.length && below(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let v = 0; v < x.length; v++) {
    if (heap.length < k) {
      heap.push(v);
      for (let i = heap.length - 1; i > 0; ) {
        const parent = (i - 1) >> 1;
        if (!below(heap[i], heap[parent])) break;
        [heap[i], heap[parent]] = [heap[parent], heap[i]];
        i = parent;
      }
    } else if (below(heap[0], v)) {
      heap[0] = v;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (below(a, b) ? 1 : below(b, a) ? -1 : 0));
}

/**
 * v_g = v_base − α·ReLU(v_reinf − v_base) (logits centred per position) at every scored position
 * of each example, kept as the top-k of softmax(v_g) (k = 1 with probability 1 for argmax).
 */
export function genericTargets(
  base: CausalLM,
  reinforced: CausalLM,
  examples: readonly Example[],
  opts: { alpha: number; labels: 'soft' | 'argmax'; topK: number; batchSize: number },
): GenericTargets[] {
  const V = base.vocabSize;
  const k = opts.labels === 'argmax' ? 1 : opts.topK === 0 ? V : Math.min(opts.topK, V);
  const out = new Array<GenericTargets>(examples.length);
  const vb = new Float64Array(V);
  const vg = new Float64Array(V);
  noGrad(() => {
    for (const batch of epochBatches(examples, opts.batchSize, 0, 0, { shuffle: false })) {
      const lb = logitsOf(base, batch.inputs).f32;
      const lr = logitsOf(reinforced, batch.inputs).f32;
      const [B, T] = batch.targets.shape;
      for (let b = 0; b < B; b++) {
        const scored: number[] = [];
        for (let t = 0; t < T; t++) if (batch.targets.i32[b * T + t] !== IGNORE_INDEX) scored.push(t);
        const ids = new Int32Array(scored.length * k);
        const probs = new Float32Array(scored.length * k);
        scored.forEach((t, p) => {
          const o = (b * T + t) * V;
          let mb = 0;
          let mr = 0;
          for (let v = 0; v < V; v++) {
            mb += lb[o + v];
            mr += lr[o + v];
          }
          mb /= V;
          mr /= V;
          for (let v = 0; v < V; v++) {
            vb[v] = lb[o + v] - mb;
            vg[v] = vb[v] - opts.alpha * Math.max(0, lr[o + v] - mr - vb[v]);
          }
          const top = topIndices(vg, k);
          // Softmax restricted to the kept entries = softmax(v_g) over them, renormalised.
          const m = vg[top[0]];
          let z = 0;
          for (const v of top) z += Math.exp(vg[v] - m);
          top.forEach((v, j) => {
            ids[p * k + j] = v;
            probs[p * k + j] = Math.exp(vg[v] - m) / z;
          });
        });
        out[batch.indices[b]] = { positions: scored.length, k, ids, probs };
      }
    }
  });
  return out;
}

/**
 * Cross-entropy to the generic targets, averaged like meanNll: per example the mean over its
 * scored positions, then the mean over examples. Also logs the true answers' mean NLL.
 */
export function genericTargetLoss(
  model: CausalLM,
  batch: Batch,
  targets: readonly GenericTargets[],
): LossOutput {
  const logits = logitsOf(model, batch.inputs);
  const [B, T] = batch.targets.shape;
  const V = model.vocabSize;
  const q = new Float32Array(B * T * V);
  for (let b = 0; b < B; b++) {
    const g = targets[batch.indices[b]];
    if (g.positions === 0) continue;
    const w = 1 / (g.positions * B);
    let p = 0;
    for (let t = 0; t < T; t++) {
      if (batch.targets.i32[b * T + t] === IGNORE_INDEX) continue;
      const o = (b * T + t) * V;
      for (let j = 0; j < g.k; j++) q[o + g.ids[p * g.k + j]] -= w * g.probs[p * g.k + j];
      p++;
    }
  }
  const logp = logSoftmax(logits);
  const loss = sum(mul(logp, new Tensor(q, [B, T, V])));
  // The true answers' NLL from the same forward pass, for the log.
  let nll = 0;
  const lp = logp.f32;
  for (let b = 0; b < B; b++) {
    let s = 0;
    let n = 0;
    for (let t = 0; t < T; t++) {
      const y = batch.targets.i32[b * T + t];
      if (y === IGNORE_INDEX) continue;
      s -= lp[(b * T + t) * V + y];
      n++;
    }
    if (n > 0) nll += s / n / B;
  }
  return { loss, logs: { forgetNll: nll } };
}

export const whp = weightMethod({
  name: 'whp',
  summary:
    "Who's Harry Potter: train a reinforced copy on D_f, form generic logits v_g = v_base − α·ReLU(v_reinf − v_base) at the forget answer positions, and fine-tune the model toward them.",
  paper: 'Eldan & Russinovich 2023, arXiv:2310.02238',
  args: WhpArgs,
  needs: {},
  async apply(ctx) {
    const a = ctx.args;
    const model = ctx.model;
    let reinforced: CausalLM | null = cloneModel(model);
    const reinforce = ctx.trainingStage('reinforce');
    const r = await train(reinforced, ctx.forget, {
      steps: a.reinforceSteps,
      epochs: a.reinforceSteps === undefined ? a.reinforceEpochs : undefined,
      batchSize: a.batchSize,
      lr: a.reinforceLr,
      schedule: 'constant',
      weightDecay: 0,
      seed: ctx.seed,
      progress: false,
      label: 'whp reinforce',
      logFile: reinforce.logFile,
    });
    reinforce.done(r);
    model.eval();
    const targets = genericTargets(model, reinforced, ctx.forget, {
      alpha: a.alpha,
      labels: a.labels,
      topK: a.topK,
      batchSize: a.batchSize,
    });
    reinforced = null; // the reinforced copy is no longer needed
    const finetune = ctx.trainingStage('fine-tune');
    const f = await train(model, ctx.forget, {
      steps: a.finetuneSteps,
      epochs: a.finetuneSteps === undefined ? a.finetuneEpochs : undefined,
      batchSize: a.batchSize,
      lr: a.finetuneLr,
      schedule: 'constant',
      weightDecay: 0,
      seed: ctx.seed + 1,
      progress: false,
      label: 'whp fine-tune',
      logFile: finetune.logFile,
      loss: (m, batch) => genericTargetLoss(m, batch, targets),
    });
    finetune.done(f);
    ctx.log(
      `reinforced ${r.steps} steps (loss ${r.finalLoss.toFixed(4)}), fine-tuned ${f.steps} steps toward ${a.labels} generic targets (loss ${f.finalLoss.toFixed(4)})`,
    );
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const whpMethods = [whp];
