/**
 * Scoring sequences under a causal LM: per-token log-probabilities of a chosen span (an answer,
 * or everything after the first token) and their summed NLL, batched with right padding. With
 * causal attention the padding never influences real tokens, and every kernel is row-independent,
 * so an item's scores do not depend on the batch it was placed in.
 */
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { crossEntropy, noGrad } from '../tensor/index.ts';
import { collate } from './batch.ts';

export interface ScoreRequest {
  ids: readonly number[];
  /** Index of the first scored token (>= 1): tokens ids[start…] are scored given their prefix. */
  start: number;
}

export interface ScoreResult {
  /** log p(ids[t] | ids[<t]) for t = start … end. */
  logProbs: Float32Array;
  /** −Σ logProbs. */
  nll: number;
  /** Number of scored tokens. */
  tokens: number;
  /** Per scored token, mean and std of log p(v | prefix) over the vocabulary (Min-K%++); when asked. */
  meanLogProb?: Float32Array;
  stdLogProb?: Float32Array;
}

export interface ScoreOptions {
  batchSize?: number;
  /** Also compute the vocabulary mean/std of log-probs at each scored position. */
  distributionStats?: boolean;
  /** Called after each batch with (done, total) items. */
  onProgress?: (done: number, total: number) => void;
}

/** Mean and std of log-softmax(row) under the distribution itself: E_p[log p], sd_p[log p] (Min-K%++). */
export function logProbMoments(row: Float32Array): [number, number] {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let z = 0;
  for (const x of row) z += Math.exp(x - max);
  const lse = max + Math.log(z);
  let mean = 0;
  let second = 0;
  for (const x of row) {
    const lp = x - lse;
    const p = Math.exp(lp);
    mean += p * lp;
    second += p * lp * lp;
  }
  return [mean, Math.sqrt(Math.max(0, second - mean * mean))];
}

export function scoreSequences(
  model: CausalLM,
  requests: readonly ScoreRequest[],
  opts: ScoreOptions = {},
): ScoreResult[] {
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ConfigError('scoreSequences: batchSize must be a positive integer', {
      found: String(batchSize),
    });
  }
  requests.forEach((r, i) => {
    if (!Number.isInteger(r.start) || r.start < 1 || r.start > r.ids.length) {
      throw new ConfigError(
        `scoreSequences: request ${i} has start ${r.start} outside [1, ${r.ids.length}]`,
        {
          hint: 'the first token has no prefix to be scored against',
        },
      );
    }
  });
  // Longest first, so batches hold similar lengths (less padding); results return in input order.
  const order = requests
    .map((_, i) => i)
    .sort((a, b) => requests[b].ids.length - requests[a].ids.length || a - b);
  const results = new Array<ScoreResult>(requests.length);
  const V = model.vocabSize;
  noGrad(() => {
    for (let s = 0; s < order.length; s += batchSize) {
      const batch = order.slice(s, s + batchSize);
      const T = Math.max(...batch.map((i) => requests[i].ids.length)) - 1;
      if (T === 0) {
        for (const i of batch) results[i] = { logProbs: new Float32Array(0), nll: 0, tokens: 0 };
        continue;
      }
      const { inputs, targets } = collate(requests, batch); // (B, T)
      const logits = model.forward(inputs).logits!;
      const nll = crossEntropy(logits, targets, { reduction: 'none' }).f32;
      batch.forEach((i, b) => {
        const { ids, start } = requests[i];
        const n = ids.length - start;
        const logProbs = new Float32Array(n);
        let total = 0;
        for (let j = 0; j < n; j++) {
          logProbs[j] = -nll[b * T + start - 1 + j];
          total += nll[b * T + start - 1 + j];
        }
        const result: ScoreResult = { logProbs, nll: total, tokens: n };
        if (opts.distributionStats) {
          result.meanLogProb = new Float32Array(n);
          result.stdLogProb = new Float32Array(n);
          for (let j = 0; j < n; j++) {
            const row = logits.f32.subarray((b * T + start - 1 + j) * V, (b * T + start + j) * V);
            [result.meanLogProb[j], result.stdLogProb[j]] = logProbMoments(row);
          }
        }
        results[i] = result;
      });
      opts.onProgress?.(Math.min(s + batchSize, order.length), order.length);
    }
  });
  return results;
}
