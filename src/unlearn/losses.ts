/**
 * The loss terms every gradient method is built from (see ../shared/UNLEARNING.md). Sequence
 * quantities are per example: ℓ(y|x) is the summed NLL of the scored (answer) tokens, ℓ̄ = ℓ/|y|,
 * log p(y|x) = −ℓ. Batch averages are means over examples, so an example's weight does not depend
 * on its length or on what it is batched with.
 */
import { LetheError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import {
  add,
  affine,
  crossEntropy,
  exp,
  IGNORE_INDEX,
  log,
  logSoftmax,
  maximum,
  mean,
  mul,
  noGrad,
  sigmoid,
  sub,
  sum,
  Tensor,
} from '../tensor/index.ts';
import type { Batch } from '../text/batch.ts';

/** The (B, T, V) logits of a full forward pass (which, without stopAfterLayer, always has them). */
export function logitsOf(model: CausalLM, inputs: Tensor): Tensor {
  const { logits } = model.forward(inputs);
  if (!logits) throw new LetheError('the forward pass returned no logits');
  return logits;
}

/** Per-example summed NLL (B) with gradient, and the number of scored tokens of each example. */
export function sequenceNll(
  model: CausalLM,
  batch: Batch,
): { nll: Tensor; counts: Float32Array; logits: Tensor } {
  const logits = logitsOf(model, batch.inputs);
  const perToken = crossEntropy(logits, batch.targets, { ignoreIndex: IGNORE_INDEX, reduction: 'none' }); // (B, T)
  return { nll: sum(perToken, 1), counts: scoredCounts(batch), logits };
}

export function scoredCounts(batch: Batch): Float32Array {
  const [B, T] = batch.targets.shape;
  const t = batch.targets.i32;
  const counts = new Float32Array(B);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) if (t[b * T + i] !== IGNORE_INDEX) counts[b]++;
  return counts;
}

/** Mean over examples of ℓ̄ = ℓ/|y| (examples without scored tokens count 0). */
export function meanNll(model: CausalLM, batch: Batch): Tensor {
  const { nll, counts } = sequenceNll(model, batch);
  return mean(
    mul(
      nll,
      new Tensor(
        counts.map((c) => (c > 0 ? 1 / c : 0)),
        [counts.length],
      ),
    ),
  );
}

/**
 * log σ(x) through the sigmoid primitive, so the gradient 1 − σ(x) is exact everywhere — including
 * x = 0, where NPO starts (p_θ = p_ref) and a max/abs decomposition would give a zero subgradient.
 * x is floored at −80 (where σ would underflow to 0); below it the value is ≈ x and the gradient 0.
 */
export function logSigmoid(x: Tensor): Tensor {
  return log(sigmoid(maximum(x, -80)));
}

/** NPO's forget term: −(2/β)·mean log σ(−β·(log p_θ − log p_ref)), log p summed over the answer. */
export function npoLoss(logpTheta: Tensor, logpRef: Float32Array, beta: number): Tensor {
  const ratio = sub(logpTheta, new Tensor(logpRef, [logpRef.length]));
  return affine(mean(logSigmoid(affine(ratio, -beta))), -2 / beta);
}

/** SimNPO's forget term: −(2/β)·mean log σ(−(β/|y|)·log p_θ − γ). */
export function simnpoLoss(logpTheta: Tensor, counts: Float32Array, beta: number, gamma: number): Tensor {
  const lengthNorm = new Tensor(
    counts.map((c) => (c > 0 ? -beta / c : 0)),
    [counts.length],
  );
  return affine(mean(logSigmoid(affine(mul(logpTheta, lengthNorm), 1, -gamma))), -2 / beta);
}

/** DPO with the preferred answer w and the rejected answer l (reference log-probs given). */
export function dpoLoss(
  logpW: Tensor,
  refW: Float32Array,
  logpL: Tensor,
  refL: Float32Array,
  beta: number,
): Tensor {
  const margin = sub(
    sub(logpW, new Tensor(refW, [refW.length])),
    sub(logpL, new Tensor(refL, [refL.length])),
  );
  return affine(mean(logSigmoid(affine(margin, beta))), -2 / beta);
}

/**
 * KL(p_ref ‖ p_θ) per scored token, averaged over scored tokens only (prompt and padding
 * positions are excluded — some codebases average over them too, a known divergence).
 */
export function klToReference(model: CausalLM, reference: CausalLM, batch: Batch): Tensor {
  const refLogp = noGrad(() => logSoftmax(logitsOf(reference, batch.inputs))); // (B, T, V)
  const logp = logSoftmax(logitsOf(model, batch.inputs));
  const [B, T] = batch.targets.shape;
  const mask = new Float32Array(B * T);
  let n = 0;
  for (let i = 0; i < B * T; i++) {
    if (batch.targets.i32[i] !== IGNORE_INDEX) {
      mask[i] = 1;
      n++;
    }
  }
  const pRef = noGrad(() => exp(refLogp));
  const perToken = sum(mul(pRef, sub(refLogp, logp)), -1); // (B, T)
  return affine(sum(mul(perToken, new Tensor(mask, [B, T]))), n === 0 ? 0 : 1 / n);
}

/** Mean squared distance of hidden states (B, T, C) to a target, over non-padding tokens and channels. */
export function hiddenMse(hidden: Tensor, target: Tensor, tokenMask: Float32Array): Tensor {
  const [B, T, C] = hidden.shape;
  const n = tokenMask.reduce((s, m) => s + m, 0);
  const d = sub(hidden, target);
  const perToken = sum(mul(d, d), -1); // (B, T)
  return affine(sum(mul(perToken, new Tensor(tokenMask, [B, T]))), n === 0 ? 0 : 1 / (n * C));
}

/** 1 for real (non-padding) input positions: every position up to the last scored target. */
export function tokenMask(batch: Batch, lengths: readonly number[]): Float32Array {
  const [B, T] = batch.inputs.shape;
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) m.fill(1, b * T, b * T + Math.min(T, lengths[b]));
  return m;
}

/** Σ w·term over the terms present with a nonzero weight (the gradient-ascent family's objectives). */
export const weighted = (terms: [number, Tensor | null][]): Tensor =>
  terms
    .filter(([w, t]) => t && w !== 0)
    .map(([w, t]) => affine(t!, w))
    .reduce((a, b) => add(a, b));
