/**
 * What every decoder-only LM in lethe offers: a forward pass from token ids to logits with an
 * optional KV cache, per-row positions and a padding mask, and hooks on the residual stream.
 */
import type { Module } from '../nn/module.ts';
import { concat, type Tensor } from '../tensor/index.ts';
import type { HFTensor } from './hf-weights.ts';

/** Per-layer cached keys and values, (B, Hkv, Tpast, D) each. */
export class KVCache {
  readonly keys: (Tensor | null)[];
  readonly values: (Tensor | null)[];
  constructor(layers: number) {
    this.keys = new Array(layers).fill(null);
    this.values = new Array(layers).fill(null);
  }
  /** Number of positions already cached. */
  get length(): number {
    return this.keys[0] ? this.keys[0].shape[2] : 0;
  }
  /** Append this step's k, v for a layer and return the full (past + new) k, v. */
  extend(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const pk = this.keys[layer];
    const pv = this.values[layer];
    const fk = pk ? concat([pk, k], 2) : k;
    const fv = pv ? concat([pv, v], 2) : v;
    this.keys[layer] = fk;
    this.values[layer] = fv;
    return [fk, fv];
  }
}

export interface ForwardOptions {
  /** Position of each token, (B·T) row-major; default 0…T−1 after the cache length for every row. */
  positions?: Int32Array;
  /** Additive key mask (B, 1, Tq, Tk): 0 to attend, −1e9 (or −∞) to ignore (e.g. left padding). */
  attentionMask?: Tensor | null;
  /** Cache for incremental decoding (generation); extended in place. */
  cache?: KVCache;
  /**
   * Called with the residual stream (B, T, C) after each block; returning a tensor replaces it
   * (steering). Differentiable: the tensor is part of the graph.
   */
  residualHook?: (layer: number, hidden: Tensor) => Tensor | undefined;
  /** Stop after this block and return no logits (probes, RMU). */
  stopAfterLayer?: number;
}

export interface ForwardResult {
  /** (B, T, V), or null when stopAfterLayer ended the pass early. */
  logits: Tensor | null;
}

export interface CausalLM extends Module {
  /** The HF model_type this instance was built as ("gpt2", "gpt_neo", "gpt_neox", "llama", …). */
  readonly modelType: string;
  /** The HF config.json object (normalised, all defaults filled in). */
  readonly config: Record<string, unknown>;
  readonly vocabSize: number;
  readonly numLayers: number;
  readonly hiddenSize: number;
  /** Longest sequence the model accepts (learned positions) or was configured for (RoPE). */
  readonly maxPositions: number;
  forward(ids: Tensor, opts?: ForwardOptions): ForwardResult;
  newCache(): KVCache;
  /**
   * Checkpoint tensors that are not weights, recognised by name and never read: causal-mask and
   * rotary buffers that some transformers versions saved (often BOOL or F16), a tied head's copy.
   */
  readonly nonWeightTensors: RegExp;
  /** Parameters by HF checkpoint name with their on-disk layout (for saving). */
  toHF(): Map<string, { data: Float32Array; shape: number[] }>;
  /** Load HF-named tensors (checks the key set and every shape; lists renames). */
  loadHF(tensors: ReadonlyMap<string, HFTensor>, file: string): void;
}

/** Default positions: past … past+T−1 for every row. */
export function defaultPositions(batch: number, T: number, past: number): Int32Array {
  const p = new Int32Array(batch * T);
  for (let b = 0; b < batch; b++) for (let t = 0; t < T; t++) p[b * T + t] = past + t;
  return p;
}
