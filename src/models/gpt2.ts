/**
 * GPT-2 (HF model_type "gpt2"): learned positions, pre-LayerNorm blocks, GELU MLP, tied LM
 * head. Module fields carry the HF checkpoint names; GPT-2's Conv1D weights are stored (in, out)
 * exactly as in the checkpoint, so loading needs no transposes.
 */
import { z } from 'zod';
import { ShapeError } from '../errors.ts';
import { Embedding, LayerNorm, Linear } from '../nn/layers.ts';
import type { Adaptable, LoraAdapter } from '../nn/lora.ts';
import { Module, ModuleList } from '../nn/module.ts';
import {
  add,
  attention,
  dropout,
  gather,
  linear,
  matmul,
  permute,
  Rng,
  reshape,
  slice,
  Tensor,
} from '../tensor/index.ts';
import { activate, activationSchema } from './activation.ts';
import {
  type CausalLM,
  defaultPositions,
  type ForwardOptions,
  type ForwardResult,
  KVCache,
} from './causal-lm.ts';
import { withAliases } from './config-compat.ts';
import { type HFTensor, loadHFWeights } from './hf-weights.ts';

// No aliases: withAliases only checks that torch_dtype and dtype agree and refuses scaled RoPE.
export const GPT2ConfigSchema = withAliases(
  [],
  z
    .object({
      model_type: z.literal('gpt2'),
      vocab_size: z.number().int().positive(),
      n_positions: z.number().int().positive(),
      n_embd: z.number().int().positive(),
      n_layer: z.number().int().positive(),
      n_head: z.number().int().positive(),
      n_inner: z.number().int().positive().nullable().default(null),
      activation_function: activationSchema('gelu_new'),
      layer_norm_epsilon: z.number().positive().default(1e-5),
      resid_pdrop: z.number().min(0).max(1).default(0),
      embd_pdrop: z.number().min(0).max(1).default(0),
      attn_pdrop: z.number().min(0).max(1).default(0),
      tie_word_embeddings: z.boolean().default(true),
      initializer_range: z.number().positive().default(0.02),
      // Variants of GPT-2 attention that lethe does not implement are refused rather than ignored.
      scale_attn_weights: z.literal(true).default(true),
      scale_attn_by_inverse_layer_idx: z.literal(false).default(false),
      reorder_and_upcast_attn: z.boolean().default(false),
      bos_token_id: z.number().int().nullable().optional(),
      eos_token_id: z.number().int().nullable().optional(),
    })
    .loose(),
);
export type GPT2Config = z.infer<typeof GPT2ConfigSchema>;

/** GPT-2's Conv1D: y = x·W + b with W stored (in, out). */
class Conv1D extends Module implements Adaptable {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly weightLayout = 'in-out';
  adapter: LoraAdapter | null = null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    rng: Rng | null,
    std: number,
  ) {
    super();
    const inF = inFeatures;
    const outF = outFeatures;
    const w = new Float32Array(inF * outF);
    if (rng) for (let i = 0; i < w.length; i++) w[i] = std * rng.normal();
    this.weight = this.registerParameter('weight', new Tensor(w, [inF, outF]));
    this.bias = this.registerParameter('bias', new Tensor(new Float32Array(outF), [outF]));
  }
  forward(x: Tensor): Tensor {
    const y = linear(x, this.weight, this.bias);
    return this.adapter ? add(y, this.adapter.forward(x)) : y;
  }
  attachAdapter(a: LoraAdapter): void {
    this.adapter = this.registerModule('lora', a);
  }
  detachAdapter(): void {
    if (this.adapter) this.unregisterModule('lora');
    this.adapter = null;
  }
}

class GPT2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;
  constructor(
    private readonly cfg: GPT2Config,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.n_embd;
    const std = cfg.initializer_range;
    this.c_attn = this.registerModule('c_attn', new Conv1D(C, 3 * C, rng, std));
    // GPT-2 scales residual projections by 1/sqrt(2·layers) at init.
    this.c_proj = this.registerModule('c_proj', new Conv1D(C, C, rng, std / Math.sqrt(2 * cfg.n_layer)));
  }
  forward(x: Tensor, layer: number, opts: ForwardOptions): Tensor {
    const [B, T, C] = x.shape;
    const NH = this.cfg.n_head;
    const HS = C / NH;
    const qkv = reshape(this.c_attn.forward(x), [B, T, 3, NH, HS]);
    const heads = permute(qkv, [2, 0, 3, 1, 4]); // (3, B, NH, T, HS)
    let q = reshape(slice(heads, 0, 0, 1), [B, NH, T, HS]);
    let k = reshape(slice(heads, 0, 1, 2), [B, NH, T, HS]);
    let v = reshape(slice(heads, 0, 2, 3), [B, NH, T, HS]);
    if (opts.cache) [k, v] = opts.cache.extend(layer, k, v);
    q = attention(q, k, v, { causal: true, mask: opts.attentionMask ?? null });
    const merged = reshape(permute(q, [0, 2, 1, 3]), [B, T, C]); // (B, T, C)
    return this.c_proj.forward(merged);
  }
}

class GPT2MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  constructor(
    private readonly cfg: GPT2Config,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.n_embd;
    const inner = cfg.n_inner ?? 4 * C;
    this.c_fc = this.registerModule('c_fc', new Conv1D(C, inner, rng, cfg.initializer_range));
    this.c_proj = this.registerModule(
      'c_proj',
      new Conv1D(inner, C, rng, cfg.initializer_range / Math.sqrt(2 * cfg.n_layer)),
    );
  }
  forward(x: Tensor): Tensor {
    return this.c_proj.forward(activate(this.cfg.activation_function, this.c_fc.forward(x)));
  }
}

class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;
  constructor(cfg: GPT2Config, rng: Rng | null) {
    super();
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(cfg.n_embd, { eps: cfg.layer_norm_epsilon }));
    this.attn = this.registerModule('attn', new GPT2Attention(cfg, rng));
    this.ln_2 = this.registerModule('ln_2', new LayerNorm(cfg.n_embd, { eps: cfg.layer_norm_epsilon }));
    this.mlp = this.registerModule('mlp', new GPT2MLP(cfg, rng));
  }
}

class GPT2Model extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<GPT2Block>;
  readonly ln_f: LayerNorm;
  constructor(cfg: GPT2Config, rng: Rng | null) {
    super();
    this.wte = this.registerModule(
      'wte',
      new Embedding(cfg.vocab_size, cfg.n_embd, { rng, std: cfg.initializer_range }),
    );
    this.wpe = this.registerModule('wpe', new Embedding(cfg.n_positions, cfg.n_embd, { rng, std: 0.01 }));
    this.h = this.registerModule(
      'h',
      new ModuleList(Array.from({ length: cfg.n_layer }, () => new GPT2Block(cfg, rng))),
    );
    this.ln_f = this.registerModule('ln_f', new LayerNorm(cfg.n_embd, { eps: cfg.layer_norm_epsilon }));
  }
}

export class GPT2LMHeadModel extends Module implements CausalLM {
  readonly modelType = 'gpt2';
  readonly config: GPT2Config;
  readonly transformer: GPT2Model;
  readonly lm_head: Linear | null;
  private dropoutRng = new Rng(0);

  /** rng null: zero weights, to be loaded from a checkpoint. */
  constructor(config: GPT2Config, rng: Rng | null) {
    super();
    this.config = config;
    if (config.n_embd % config.n_head !== 0) {
      throw new ShapeError(`gpt2: n_embd ${config.n_embd} is not a multiple of n_head ${config.n_head}`);
    }
    this.transformer = this.registerModule('transformer', new GPT2Model(config, rng));
    this.lm_head = config.tie_word_embeddings
      ? null
      : this.registerModule('lm_head', new Linear(config.n_embd, config.vocab_size, { rng, bias: false }));
  }

  get vocabSize(): number {
    return this.config.vocab_size;
  }
  get numLayers(): number {
    return this.config.n_layer;
  }
  get hiddenSize(): number {
    return this.config.n_embd;
  }
  get maxPositions(): number {
    return this.config.n_positions;
  }

  /** Reseed dropout (only active in training mode with p > 0). */
  seedDropout(seed: number): void {
    this.dropoutRng = new Rng(seed);
  }

  newCache(): KVCache {
    return new KVCache(this.config.n_layer);
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): ForwardResult {
    if (ids.ndim !== 2 || ids.dtype !== 'int32') throw new ShapeError('gpt2: ids must be int32 (B, T)');
    const [B, T] = ids.shape;
    const past = opts.cache?.length ?? 0;
    const positions = opts.positions ?? defaultPositions(B, T, past);
    for (const p of positions) {
      if (p >= this.config.n_positions) {
        throw new ShapeError(`gpt2: position ${p} is beyond n_positions = ${this.config.n_positions}`, {
          hint: 'shorten the input or the generation length',
        });
      }
    }
    const tr = this.transformer;
    const train = this.training;
    let h = add(tr.wte.forward(ids), gather(tr.wpe.weight, new Tensor(positions, [B, T]))); // (B, T, C)
    h = dropout(h, train ? this.config.embd_pdrop : 0, this.dropoutRng);
    let layer = 0;
    for (const block of tr.h) {
      const a = block.attn.forward(block.ln_1.forward(h), layer, opts);
      h = add(h, dropout(a, train ? this.config.resid_pdrop : 0, this.dropoutRng));
      const m = block.mlp.forward(block.ln_2.forward(h));
      h = add(h, dropout(m, train ? this.config.resid_pdrop : 0, this.dropoutRng));
      h = opts.residualHook?.(layer, h) ?? h;
      if (opts.stopAfterLayer === layer) return { logits: null };
      layer++;
    }
    h = tr.ln_f.forward(h);
    const logits = this.lm_head ? this.lm_head.forward(h) : matmul(h, tr.wte.weight, { transB: true });
    return { logits };
  }

  toHF(): Map<string, { data: Float32Array; shape: number[] }> {
    return new Map(this.namedParameters().map(([n, t]) => [n, { data: t.f32, shape: [...t.shape] }]));
  }

  /** Causal-mask buffers stored by older transformers versions; a tied head's copy. */
  get nonWeightTensors(): RegExp {
    return this.lm_head ? /\.attn\.(masked_)?bias$/ : /\.attn\.(masked_)?bias$|^lm_head\.weight$/;
  }

  loadHF(tensors: ReadonlyMap<string, HFTensor>, file: string): void {
    loadHFWeights(this, tensors, file, {
      // Original GPT-2 files name tensors without the "transformer." prefix.
      rename: (n) => (n.startsWith('transformer.') || n.startsWith('lm_head.') ? n : `transformer.${n}`),
      ignore: this.nonWeightTensors,
    });
  }
}
