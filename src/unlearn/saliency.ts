/**
 * Localization: which weights to update. Saliency masks keep the top s% of weights by a score:
 * gradient magnitude of the forget loss (SalUn-style), or weight attribution |θ ⊙ ∇(L_f − L_r)|
 * (WAGLE-style, 2410.17509). Scores are ranked globally across the trainable parameters.
 */
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { epochBatches } from '../train/batching.ts';
import { meanNll } from './losses.ts';

/** Gradient of the mean forget NLL (summed over batches) for each parameter, by name. */
export function accumulatedGradients(
  model: CausalLM,
  examples: readonly Example[],
  params: readonly [string, Tensor][],
  batchSize: number,
): Map<string, Float32Array> {
  for (const [, t] of params) t.zeroGrad();
  for (const batch of epochBatches(examples, batchSize, 0, 0, { shuffle: false }))
    meanNll(model, batch).backward();
  const out = new Map<string, Float32Array>();
  for (const [n, t] of params) {
    out.set(n, t.grad ? t.grad.f32.slice() : new Float32Array(t.size));
    t.zeroGrad();
  }
  return out;
}

export interface MaskOptions {
  kind: 'grad' | 'wagle';
  /** Share of weights kept trainable, in (0, 1]. */
  sparsity: number;
  batchSize: number;
}

/**
 * Per-weight saliency scores: |∇ℓ̄_f| (grad) or |θ ⊙ (∇ℓ̄_f − ∇ℓ̄_r)| (wagle), the gradients being
 * those of the mean NLL summed over consecutive batches of `batchSize` examples.
 */
export function saliencyScores(
  model: CausalLM,
  forget: readonly Example[],
  retain: readonly Example[],
  params: readonly [string, Tensor][],
  opts: Omit<MaskOptions, 'sparsity'>,
): Map<string, Float32Array> {
  const gf = accumulatedGradients(model, forget, params, opts.batchSize);
  const gr =
    opts.kind === 'wagle' && retain.length > 0
      ? accumulatedGradients(model, retain, params, opts.batchSize)
      : null;
  const scores = new Map<string, Float32Array>();
  for (const [n, t] of params) {
    const g = gf.get(n)!;
    const r = gr?.get(n);
    const s = new Float32Array(t.size);
    for (let i = 0; i < s.length; i++)
      s[i] = opts.kind === 'grad' ? Math.abs(g[i]) : Math.abs(t.f32[i] * (g[i] - (r ? r[i] : 0)));
    scores.set(n, s);
  }
  return scores;
}

/** Element masks (1 = may change) keeping the top `sparsity` share of weights by score. */
export function saliencyMasks(
  model: CausalLM,
  forget: readonly Example[],
  retain: readonly Example[],
  params: readonly [string, Tensor][],
  opts: MaskOptions,
): Map<string, Float32Array> {
  if (!(opts.sparsity > 0 && opts.sparsity <= 1)) {
    throw new ConfigError('maskSparsity must be in (0, 1]', { found: String(opts.sparsity) });
  }
  const scores = saliencyScores(model, forget, retain, params, opts);
  let total = 0;
  for (const s of scores.values()) total += s.length;
  // Threshold at the k-th largest score (k = sparsity·total), found on a sorted copy.
  const all = new Float32Array(total);
  let o = 0;
  for (const s of scores.values()) {
    all.set(s, o);
    o += s.length;
  }
  all.sort();
  const keep = Math.max(1, Math.round(opts.sparsity * total));
  const threshold = all[total - keep];
  const masks = new Map<string, Float32Array>();
  for (const [n, s] of scores)
    masks.set(
      n,
      s.map((v) => (v >= threshold ? 1 : 0)),
    );
  return masks;
}
