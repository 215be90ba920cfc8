/**
 * LoRA adapters (Hu et al. 2021): a frozen linear map W plus a trainable low-rank update
 * (α/r)·B·A, A (r, in) small random, B (out, r) zero, so training starts from the base model.
 * Adapters attach to linear layers chosen by a name pattern; merging folds (α/r)·B·A into W
 * and detaches them, leaving a plain model with the original parameter names.
 */
import { ConfigError } from '../errors.ts';
import { dropout, matmul, mul, Rng, Tensor } from '../tensor/index.ts';
import { Module } from './module.ts';

export interface LoraOptions {
  /** Modules to adapt: a regex over full module names (e.g. /self_attn\.(q|v)_proj$/ or "c_attn"). */
  targets: RegExp | string;
  rank: number;
  /** Scale numerator: the update is (alpha / rank)·B·A. Default: rank (scale 1). */
  alpha?: number;
  /** Dropout on the adapter's input while training. Default 0. */
  dropout?: number;
  seed?: number;
}

/** The low-rank update of one layer. */
export class LoraAdapter extends Module {
  readonly A: Tensor; // (r, in)
  readonly B: Tensor; // (out, r)
  readonly scale: number;
  private readonly rng: Rng;

  constructor(
    inFeatures: number,
    outFeatures: number,
    rank: number,
    alpha: number,
    readonly p: number,
    rng: Rng,
  ) {
    super();
    // A ~ U(−1/√in, 1/√in) like a default Linear init; B = 0 so the adapted model starts unchanged.
    const bound = 1 / Math.sqrt(inFeatures);
    const a = Float32Array.from({ length: rank * inFeatures }, () => (2 * rng.uniform() - 1) * bound);
    this.A = this.registerParameter('A', new Tensor(a, [rank, inFeatures]));
    this.B = this.registerParameter(
      'B',
      new Tensor(new Float32Array(outFeatures * rank), [outFeatures, rank]),
    );
    this.scale = alpha / rank;
    this.rng = rng.fork();
  }

  /** (…, in) → (…, out) */
  forward(x: Tensor): Tensor {
    const h = dropout(x, this.training ? this.p : 0, this.rng);
    return mul(matmul(matmul(h, this.A, { transB: true }), this.B, { transB: true }), this.scale);
  }

  /** scale·B·A as (out, in). */
  delta(): Float32Array {
    const [out, r] = this.B.shape;
    const inF = this.A.shape[1];
    const d = new Float32Array(out * inF);
    for (let o = 0; o < out; o++)
      for (let k = 0; k < r; k++) {
        const b = this.B.f32[o * r + k] * this.scale;
        if (b === 0) continue;
        for (let i = 0; i < inF; i++) d[o * inF + i] += b * this.A.f32[k * inF + i];
      }
    return d;
  }
}

/** A linear layer that can carry an adapter (lethe's Linear and GPT-2's Conv1D). */
export interface Adaptable {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** The base weight and whether it is stored (out, in) like nn.Linear or (in, out) like Conv1D. */
  readonly weight: Tensor;
  readonly weightLayout: 'out-in' | 'in-out';
  adapter: LoraAdapter | null;
  attachAdapter(a: LoraAdapter): void;
  detachAdapter(): void;
}

const isAdaptable = (m: Module): m is Module & Adaptable =>
  typeof (m as Partial<Adaptable>).attachAdapter === 'function';

export interface LoraHandle {
  /** Names of the adapted modules. */
  modules: string[];
  /** True for adapter parameters (pass to the trainer's `trainable`). */
  trainable: (paramName: string) => boolean;
  /** Number of adapter parameters. */
  parameters: number;
}

/** Attach adapters to every adaptable module whose name matches `targets`. */
export function applyLora(model: Module, opts: LoraOptions): LoraHandle {
  if (!Number.isInteger(opts.rank) || opts.rank < 1) {
    throw new ConfigError('LoRA rank must be a positive integer', { found: String(opts.rank) });
  }
  const p = opts.dropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new ConfigError('LoRA dropout must be in [0, 1)', { found: String(p) });
  const pattern = typeof opts.targets === 'string' ? new RegExp(opts.targets) : opts.targets;
  const rng = new Rng(opts.seed ?? 0);
  const candidates = model.namedModules().filter(([, m]) => isAdaptable(m));
  const chosen = candidates.filter(([name]) => pattern.test(name));
  if (chosen.length === 0) {
    throw new ConfigError(`LoRA targets ${pattern} match no linear module`, {
      hint: `linear modules look like: ${candidates
        .slice(0, 6)
        .map(([n]) => n)
        .join(', ')}`,
    });
  }
  let count = 0;
  for (const [, m] of chosen) {
    const layer = m as Module & Adaptable;
    if (layer.adapter) throw new ConfigError('LoRA: a module already has an adapter; merge it first');
    const adapter = new LoraAdapter(
      layer.inFeatures,
      layer.outFeatures,
      opts.rank,
      opts.alpha ?? opts.rank,
      p,
      rng.fork(),
    );
    layer.attachAdapter(adapter);
    count += adapter.numParameters();
  }
  return { modules: chosen.map(([n]) => n), trainable: (n) => /\.lora\.(A|B)$/.test(n), parameters: count };
}

/** Fold every adapter into its base weight and detach it. Returns how many were merged. */
export function mergeLora(model: Module): number {
  let merged = 0;
  for (const [, m] of model.namedModules()) {
    if (!isAdaptable(m) || !m.adapter) continue;
    const d = m.adapter.delta(); // (out, in)
    const w = m.weight.f32;
    const { inFeatures: inF, outFeatures: out } = m;
    if (m.weightLayout === 'out-in') for (let i = 0; i < d.length; i++) w[i] += d[i];
    else for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) w[i * out + o] += d[o * inF + i];
    m.detachAdapter();
    merged++;
  }
  return merged;
}
