/**
 * GPT-NeoX (HF model_type "gpt_neox": Pythia, GPT-NeoX-20B) as transformers' GPTNeoXForCausalLM
 * computes it: LayerNorm blocks with a parallel residual x + attn(ln₁(x)) + mlp(ln₂(x)) (or the
 * sequential form when use_parallel_residual is false), one fused query_key_value projection whose
 * output is interleaved per head ([q|k|v] for head 0, then head 1, …), rotary embeddings on the
 * first ⌊rotary_pct·head_size⌋ channels of each head, an MLP with the configured activation
 * (Pythia: exact-erf "gelu"), and an untied head `embed_out`. Module fields carry the HF names.
 *
 * Dropout fields (hidden_dropout, attention_dropout) are read but not applied: they are 0 in the
 * released Pythia configs, and lethe's fine-tuning does not use them.
 */
import { z } from 'zod';
import { ShapeError } from '../errors.ts';
import { Embedding, LayerNorm, Linear } from '../nn/layers.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { add, attention, matmul, permute, type Rng, reshape, slice, type Tensor } from '../tensor/index.ts';
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
import { applyPartialRope, rotaryDims } from './rotary.ts';

const positive = z.number().int().positive();

export const GPTNeoXConfigSchema = withAliases(
  [
    // transformers ≤ 4.4x: rotary_pct / rotary_emb_base; later: partial_rotary_factor / rope_theta;
    // 5.x: rope_parameters.
    { field: 'rotary_pct', aliases: ['partial_rotary_factor'], ropeParameter: 'partial_rotary_factor' },
    { field: 'rotary_emb_base', aliases: ['rope_theta'], ropeParameter: 'rope_theta' },
  ],
  z
    .object({
      model_type: z.literal('gpt_neox'),
      vocab_size: positive,
      hidden_size: positive,
      num_hidden_layers: positive,
      num_attention_heads: positive,
      intermediate_size: positive,
      hidden_act: activationSchema('gelu'),
      rotary_pct: z.number().min(0).max(1).default(0.25),
      rotary_emb_base: z.number().positive().default(10000),
      rope_scaling: z.unknown().optional(),
      max_position_embeddings: positive.default(2048),
      layer_norm_eps: z.number().positive().default(1e-5),
      use_parallel_residual: z.boolean().default(true),
      attention_bias: z.boolean().default(true),
      tie_word_embeddings: z.boolean().default(false),
      initializer_range: z.number().positive().default(0.02),
      bos_token_id: z.number().int().nullable().optional(),
      eos_token_id: z
        .union([z.number().int(), z.array(z.number().int())])
        .nullable()
        .optional(),
    })
    .loose(),
);
export type GPTNeoXConfig = z.infer<typeof GPTNeoXConfigSchema>;

class GPTNeoXAttention extends Module {
  readonly query_key_value: Linear;
  readonly dense: Linear;
  private readonly HS: number;
  private readonly rot: number;
  constructor(
    private readonly cfg: GPTNeoXConfig,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.hidden_size;
    this.HS = C / cfg.num_attention_heads;
    this.rot = rotaryDims(this.HS, cfg.rotary_pct, 'gpt_neox');
    const o = { rng, bias: cfg.attention_bias, std: cfg.initializer_range };
    this.query_key_value = this.registerModule('query_key_value', new Linear(C, 3 * C, o));
    this.dense = this.registerModule('dense', new Linear(C, C, o));
  }
  forward(x: Tensor, layer: number, positions: Int32Array, opts: ForwardOptions): Tensor {
    const [B, T, C] = x.shape;
    const NH = this.cfg.num_attention_heads;
    const HS = this.HS;
    // Per head the fused output holds [q | k | v], not [all q | all k | all v].
    const qkv = permute(reshape(this.query_key_value.forward(x), [B, T, NH, 3 * HS]), [0, 2, 1, 3]); // (B, NH, T, 3HS)
    const theta = this.cfg.rotary_emb_base;
    const q = applyPartialRope(slice(qkv, 3, 0, HS), positions, theta, this.rot); // (B, NH, T, HS)
    let k = applyPartialRope(slice(qkv, 3, HS, 2 * HS), positions, theta, this.rot);
    let v = slice(qkv, 3, 2 * HS, 3 * HS);
    if (opts.cache) [k, v] = opts.cache.extend(layer, k, v);
    const y = attention(q, k, v, { causal: true, mask: opts.attentionMask ?? null }); // (B, NH, T, HS)
    return this.dense.forward(reshape(permute(y, [0, 2, 1, 3]), [B, T, C]));
  }
}

class GPTNeoXMLP extends Module {
  readonly dense_h_to_4h: Linear;
  readonly dense_4h_to_h: Linear;
  constructor(
    private readonly cfg: GPTNeoXConfig,
    rng: Rng | null,
  ) {
    super();
    const o = { rng, std: cfg.initializer_range };
    this.dense_h_to_4h = this.registerModule(
      'dense_h_to_4h',
      new Linear(cfg.hidden_size, cfg.intermediate_size, o),
    );
    this.dense_4h_to_h = this.registerModule(
      'dense_4h_to_h',
      new Linear(cfg.intermediate_size, cfg.hidden_size, o),
    );
  }
  forward(x: Tensor): Tensor {
    return this.dense_4h_to_h.forward(activate(this.cfg.hidden_act, this.dense_h_to_4h.forward(x)));
  }
}

class GPTNeoXLayer extends Module {
  readonly input_layernorm: LayerNorm;
  readonly post_attention_layernorm: LayerNorm;
  readonly attention: GPTNeoXAttention;
  readonly mlp: GPTNeoXMLP;
  constructor(cfg: GPTNeoXConfig, rng: Rng | null) {
    super();
    const ln = () => new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps });
    this.input_layernorm = this.registerModule('input_layernorm', ln());
    this.post_attention_layernorm = this.registerModule('post_attention_layernorm', ln());
    this.attention = this.registerModule('attention', new GPTNeoXAttention(cfg, rng));
    this.mlp = this.registerModule('mlp', new GPTNeoXMLP(cfg, rng));
  }
}

class GPTNeoXModel extends Module {
  readonly embed_in: Embedding;
  readonly layers: ModuleList<GPTNeoXLayer>;
  readonly final_layer_norm: LayerNorm;
  constructor(cfg: GPTNeoXConfig, rng: Rng | null) {
    super();
    this.embed_in = this.registerModule(
      'embed_in',
      new Embedding(cfg.vocab_size, cfg.hidden_size, { rng, std: cfg.initializer_range }),
    );
    this.layers = this.registerModule(
      'layers',
      new ModuleList(Array.from({ length: cfg.num_hidden_layers }, () => new GPTNeoXLayer(cfg, rng))),
    );
    this.final_layer_norm = this.registerModule(
      'final_layer_norm',
      new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_eps }),
    );
  }
}

export class GPTNeoXForCausalLM extends Module implements CausalLM {
  readonly modelType = 'gpt_neox';
  readonly config: GPTNeoXConfig;
  readonly gpt_neox: GPTNeoXModel;
  readonly embed_out: Linear | null;

  /** rng null: zero weights, to be loaded from a checkpoint. */
  constructor(config: GPTNeoXConfig, rng: Rng | null) {
    super();
    this.config = config;
    if (config.hidden_size % config.num_attention_heads !== 0) {
      throw new ShapeError(
        `gpt_neox: hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`,
      );
    }
    this.gpt_neox = this.registerModule('gpt_neox', new GPTNeoXModel(config, rng));
    this.embed_out = config.tie_word_embeddings
      ? null
      : this.registerModule(
          'embed_out',
          new Linear(config.hidden_size, config.vocab_size, {
            rng,
            bias: false,
            std: config.initializer_range,
          }),
        );
  }

  get vocabSize(): number {
    return this.config.vocab_size;
  }
  get numLayers(): number {
    return this.config.num_hidden_layers;
  }
  get hiddenSize(): number {
    return this.config.hidden_size;
  }
  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }

  newCache(): KVCache {
    return new KVCache(this.config.num_hidden_layers);
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): ForwardResult {
    if (ids.ndim !== 2 || ids.dtype !== 'int32') throw new ShapeError('gpt_neox: ids must be int32 (B, T)');
    const [B, T] = ids.shape;
    const positions = opts.positions ?? defaultPositions(B, T, opts.cache?.length ?? 0);
    let h = this.gpt_neox.embed_in.forward(ids); // (B, T, C)
    let layer = 0;
    for (const block of this.gpt_neox.layers) {
      const a = block.attention.forward(block.input_layernorm.forward(h), layer, positions, opts);
      if (this.config.use_parallel_residual) {
        h = add(add(h, a), block.mlp.forward(block.post_attention_layernorm.forward(h)));
      } else {
        h = add(h, a);
        h = add(h, block.mlp.forward(block.post_attention_layernorm.forward(h)));
      }
      h = opts.residualHook?.(layer, h) ?? h;
      if (opts.stopAfterLayer === layer) return { logits: null };
      layer++;
    }
    h = this.gpt_neox.final_layer_norm.forward(h);
    const logits = this.embed_out
      ? this.embed_out.forward(h)
      : matmul(h, this.gpt_neox.embed_in.weight, { transB: true });
    return { logits };
  }

  /** Causal-mask buffers (attention.bias, BOOL; attention.masked_bias) and rotary inv_freq caches. */
  get nonWeightTensors(): RegExp {
    const buffers = /\.attention\.(masked_)?bias$|\.rotary_emb\.inv_freq$/;
    return this.embed_out ? buffers : new RegExp(`${buffers.source}|^embed_out\\.weight$`);
  }

  toHF(): Map<string, { data: Float32Array; shape: number[] }> {
    return new Map(this.namedParameters().map(([n, t]) => [n, { data: t.f32, shape: [...t.shape] }]));
  }

  loadHF(tensors: ReadonlyMap<string, HFTensor>, file: string): void {
    loadHFWeights(this, tensors, file, { ignore: this.nonWeightTensors });
  }
}
