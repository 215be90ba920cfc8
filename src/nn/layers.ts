/**
 * Basic layers on the tensor ops: Linear, Embedding, LayerNorm, RMSNorm. Parameter names and
 * layouts follow PyTorch / Hugging Face (`weight`, `bias`; Linear's weight is (out, in)), so their
 * state dicts load HF checkpoints without transposes (GPT-2's Conv1D is the loader's business).
 *
 * Initialisation (documented because results depend on it): weights of Linear and Embedding are
 * drawn from Normal(0, std) with std = 0.02 by default (GPT-2 / HF `initializer_range`) from the
 * caller's seeded Rng; biases start at 0; norm weights at 1 and norm biases at 0. Passing
 * `rng: null` leaves the weights at 0, for modules whose weights will be loaded right after.
 */
import { ShapeError } from '../errors.ts';
import type { Rng } from '../tensor/index.ts';
import { add, gather, layerNorm, linear, matmul, reshape, rmsNorm, Tensor } from '../tensor/index.ts';
import type { Adaptable, LoraAdapter } from './lora.ts';
import { Module } from './module.ts';

/** Standard deviation of the default normal initialisation (HF `initializer_range`). */
export const DEFAULT_INIT_STD = 0.02;

function normal(n: number, rng: Rng | null, std: number): Float32Array {
  const data = new Float32Array(n);
  if (rng) for (let i = 0; i < n; i++) data[i] = std * rng.normal();
  return data;
}

function checkDim(layer: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1)
    throw new ShapeError(`${layer}: ${name} must be a positive integer, got ${v}`);
}

export interface LinearOptions {
  /** Seeded generator for the weight; null leaves it at 0 (weights to be loaded). */
  rng: Rng | null;
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Std of the normal weight initialisation (default 0.02). */
  std?: number;
}

/** y = x·Wᵀ + b with W stored (out, in) as in PyTorch. Input (…, in), output (…, out). */
export class Linear extends Module implements Adaptable {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor; // (out, in)
  readonly bias: Tensor | null; // (out)
  readonly weightLayout = 'out-in';
  adapter: LoraAdapter | null = null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions) {
    super();
    checkDim('Linear', 'inFeatures', inFeatures);
    checkDim('Linear', 'outFeatures', outFeatures);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const w = normal(outFeatures * inFeatures, opts.rng, opts.std ?? DEFAULT_INIT_STD);
    this.weight = this.registerParameter('weight', new Tensor(w, [outFeatures, inFeatures]));
    this.bias =
      (opts.bias ?? true)
        ? this.registerParameter('bias', new Tensor(new Float32Array(outFeatures), [outFeatures]))
        : null;
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(
        `Linear: input (${x.shape.join(', ')}) does not end in ${this.inFeatures} features`,
      );
    }
    // matmul needs rank >= 2; a single vector goes through as one row.
    const x2 = x.ndim === 1 ? reshape(x, [1, this.inFeatures]) : x;
    let y = this.bias
      ? linear(x2, this.weight, this.bias, { transB: true }) // (…, out)
      : matmul(x2, this.weight, { transB: true });
    if (this.adapter) y = add(y, this.adapter.forward(x2));
    return x.ndim === 1 ? reshape(y, [this.outFeatures]) : y;
  }

  attachAdapter(a: LoraAdapter): void {
    this.adapter = this.registerModule('lora', a);
  }

  detachAdapter(): void {
    if (this.adapter) this.unregisterModule('lora');
    this.adapter = null;
  }
}

export interface EmbeddingOptions {
  /** Seeded generator for the table; null leaves it at 0 (weights to be loaded). */
  rng: Rng | null;
  /** Std of the normal initialisation (default 0.02). */
  std?: number;
}

/** A lookup table (num, dim): int32 ids (…) → vectors (…, dim). */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly dim: number;
  readonly weight: Tensor; // (V, C)

  constructor(numEmbeddings: number, dim: number, opts: EmbeddingOptions) {
    super();
    checkDim('Embedding', 'numEmbeddings', numEmbeddings);
    checkDim('Embedding', 'dim', dim);
    this.numEmbeddings = numEmbeddings;
    this.dim = dim;
    const w = normal(numEmbeddings * dim, opts.rng, opts.std ?? DEFAULT_INIT_STD);
    this.weight = this.registerParameter('weight', new Tensor(w, [numEmbeddings, dim]));
  }

  forward(ids: Tensor): Tensor {
    return gather(this.weight, ids);
  }
}

export interface LayerNormOptions {
  /** Default 1e-5 (PyTorch, GPT-2's layer_norm_epsilon). */
  eps?: number;
  /** Learned bias (default true). */
  bias?: boolean;
}

/** LayerNorm over the last axis with weight (init 1) and optional bias (init 0). */
export class LayerNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: Tensor; // (C)
  readonly bias: Tensor | null; // (C)

  constructor(dim: number, opts: LayerNormOptions = {}) {
    super();
    checkDim('LayerNorm', 'dim', dim);
    this.dim = dim;
    this.eps = opts.eps ?? 1e-5;
    this.weight = this.registerParameter('weight', new Tensor(new Float32Array(dim).fill(1), [dim]));
    this.bias =
      (opts.bias ?? true) ? this.registerParameter('bias', new Tensor(new Float32Array(dim), [dim])) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export interface RMSNormOptions {
  /** Default 1e-6 (HF Llama's rms_norm_eps default). */
  eps?: number;
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight (init 1), as HF Llama. */
export class RMSNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: Tensor; // (C)

  constructor(dim: number, opts: RMSNormOptions = {}) {
    super();
    checkDim('RMSNorm', 'dim', dim);
    this.dim = dim;
    this.eps = opts.eps ?? 1e-6;
    this.weight = this.registerParameter('weight', new Tensor(new Float32Array(dim).fill(1), [dim]));
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}
