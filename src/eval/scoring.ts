/**
 * Teacher-forced scoring for evaluation: one batched forward pass per group of sequences gives,
 * for each scored token, its log-probability, whether it was the argmax prediction (exact
 * memorisation, ES, MA) and, when asked, the mean and standard deviation of log p(v) over the
 * vocabulary (Min-K%++). Also the gradient norm of an item's mean NLL (an MIA score).
 *
 * Promises: log-probabilities are those of src/text/score.ts (the same cross-entropy op, right
 * padding that causal attention never sees), so an item's values do not depend on its batch;
 * argmax ties go to the lowest token id, as in greedy generation.
 */
import type { CausalLM } from '../models/causal-lm.ts';
import { crossEntropy, noGrad, valueAndGrad } from '../tensor/index.ts';
import { collate } from '../text/batch.ts';
import { logProbMoments, type ScoreRequest } from '../text/score.ts';

export interface Scored {
  /** log p(ids[t] | ids[<t]) for t = start … end. */
  logProbs: Float32Array;
  /** 1 where the teacher-forced argmax equals ids[t]. */
  argmaxHit: Uint8Array;
  /** Per scored token, mean and std of log p(v | prefix) over the vocabulary (when asked). */
  meanLogProb?: Float32Array;
  stdLogProb?: Float32Array;
}

export { logProbMoments };

export interface ScoringOptions {
  batchSize: number;
  /** Also compute the vocabulary mean/std of log-probs per scored token. */
  distributionStats: boolean;
  onBatch?: (done: number, total: number) => void;
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
  return best;
}

/** Score requests (each with 1 <= start <= ids.length); results in input order. */
export function scoreForEval(
  model: CausalLM,
  requests: readonly ScoreRequest[],
  o: ScoringOptions,
): Scored[] {
  // Longest first so a batch holds similar lengths; results go back to input order.
  const order = requests
    .map((_, i) => i)
    .sort((a, b) => requests[b].ids.length - requests[a].ids.length || a - b);
  const out = new Array<Scored>(requests.length);
  const V = model.vocabSize;
  noGrad(() => {
    for (let s = 0; s < order.length; s += o.batchSize) {
      const batch = order.slice(s, s + o.batchSize);
      const T = Math.max(...batch.map((i) => requests[i].ids.length)) - 1;
      if (T === 0) {
        for (const i of batch) out[i] = { logProbs: new Float32Array(0), argmaxHit: new Uint8Array(0) };
        continue;
      }
      const { inputs, targets } = collate(requests, batch); // (B, T)
      const logits = model.forward(inputs).logits!; // (B, T, V)
      const nll = crossEntropy(logits, targets, { reduction: 'none' }).f32; // (B, T)
      const lf = logits.f32;
      batch.forEach((i, b) => {
        const { ids, start } = requests[i];
        const n = ids.length - start;
        const r: Scored = { logProbs: new Float32Array(n), argmaxHit: new Uint8Array(n) };
        if (o.distributionStats) {
          r.meanLogProb = new Float32Array(n);
          r.stdLogProb = new Float32Array(n);
        }
        for (let j = 0; j < n; j++) {
          const pos = b * T + start - 1 + j;
          r.logProbs[j] = -nll[pos];
          const row = lf.subarray(pos * V, (pos + 1) * V);
          r.argmaxHit[j] = argmax(row) === ids[start + j] ? 1 : 0;
          if (r.meanLogProb && r.stdLogProb) [r.meanLogProb[j], r.stdLogProb[j]] = logProbMoments(row);
        }
        out[i] = r;
      });
      o.onBatch?.(Math.min(s + o.batchSize, order.length), order.length);
    }
  });
  return out;
}

/**
 * ‖∇_θ ℓ̄‖₂ over every parameter of the model, ℓ̄ the mean NLL of the request's scored tokens.
 * One item per backward pass: the tape keeps no graph for a second backward, and a batched loss
 * would give the norm of the summed gradient, not each item's. Parameter .grad fields are left as
 * they were. A request with no scored token has no loss: NaN.
 */
export function gradNorm(model: CausalLM, request: ScoreRequest): number {
  const { ids, start } = request;
  const T = ids.length - 1;
  if (T < 1 || start >= ids.length) return Number.NaN;
  const { inputs, targets } = collate([request], [0]); // (1, T)
  const params = model.parameters();
  const { grads } = valueAndGrad(
    () => crossEntropy(model.forward(inputs).logits!, targets, { reduction: 'mean' }),
    params,
  );
  let sq = 0;
  for (const g of grads) for (const x of g.f32) sq += x * x;
  return Math.sqrt(sq);
}
