/**
 * The Llama family (HF model_type "llama", "mistral", "qwen2"): RMSNorm, rotary position
 * embeddings with a configurable theta, SwiGLU MLP, grouped-query attention, tied or untied
 * head; qwen2 adds q/k/v biases. Module fields carry the HF checkpoint names (no renames).
 */
import { z } from 'zod';
import { ShapeError } from '../errors.ts';
import { Embedding, Linear, RMSNorm } from '../nn/layers.ts';
import { Module, ModuleList } from '../nn/module.ts';
import {
  add,
  attention,
  matmul,
  mul,
  permute,
  type Rng,
  reshape,
  silu,
  type Tensor,
} from '../tensor/index.ts';
import {
  type CausalLM,
  defaultPositions,
  type ForwardOptions,
  type ForwardResult,
  KVCache,
} from './causal-lm.ts';
import { withAliases } from './config-compat.ts';
import { type HFTensor, loadHFWeights } from './hf-weights.ts';
import { applyRope } from './rotary.ts';

export const LlamaConfigSchema = withAliases(
  [{ field: 'rope_theta', ropeParameter: 'rope_theta' }],
  z
    .object({
      model_type: z.enum(['llama', 'mistral', 'qwen2']),
      vocab_size: z.number().int().positive(),
      hidden_size: z.number().int().positive(),
      intermediate_size: z.number().int().positive(),
      num_hidden_layers: z.number().int().positive(),
      num_attention_heads: z.number().int().positive(),
      num_key_value_heads: z.number().int().positive().nullable().optional(),
      head_dim: z.number().int().positive().nullable().optional(),
      max_position_embeddings: z.number().int().positive().default(2048),
      rms_norm_eps: z.number().positive().default(1e-6),
      rope_theta: z.number().positive().default(10000),
      // Plain RoPE only; config-compat.ts refuses scaled variants by name.
      rope_scaling: z.unknown().optional(),
      hidden_act: z.literal('silu').default('silu'),
      attention_bias: z.boolean().default(false),
      mlp_bias: z.boolean().default(false),
      tie_word_embeddings: z.boolean().default(false),
      sliding_window: z.number().int().positive().nullable().optional(),
      use_sliding_window: z.boolean().optional(),
      initializer_range: z.number().positive().default(0.02),
      bos_token_id: z.number().int().nullable().optional(),
      eos_token_id: z
        .union([z.number().int(), z.array(z.number().int())])
        .nullable()
        .optional(),
    })
    .loose(),
);
export type LlamaConfig = z.infer<typeof LlamaConfigSchema>;

interface Dims {
  C: number;
  NH: number;
  NKV: number;
  HS: number;
}

function dimsOf(cfg: LlamaConfig): Dims {
  const NH = cfg.num_attention_heads;
  const NKV = cfg.num_key_value_heads ?? NH;
  const HS = cfg.head_dim ?? cfg.hidden_size / NH;
  if (!Number.isInteger(HS) || NH % NKV !== 0 || HS % 2 !== 0) {
    throw new ShapeError(`${cfg.model_type}: inconsistent attention dims`, {
      found: `hidden_size ${cfg.hidden_size}, heads ${NH}, kv heads ${NKV}, head_dim ${HS}`,
      expected: 'an even head_dim and num_attention_heads a multiple of num_key_value_heads',
    });
  }
  return { C: cfg.hidden_size, NH, NKV, HS };
}

/** Which projections carry biases, as each HF model class builds them. */
function attentionBiases(cfg: LlamaConfig): { qkv: boolean; o: boolean } {
  if (cfg.model_type === 'qwen2') return { qkv: true, o: false };
  if (cfg.model_type === 'mistral') return { qkv: false, o: false };
  return { qkv: cfg.attention_bias, o: cfg.attention_bias };
}

class LlamaAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  constructor(
    private readonly cfg: LlamaConfig,
    private readonly d: Dims,
    rng: Rng | null,
  ) {
    super();
    const { qkv: bias, o: oBias } = attentionBiases(cfg);
    const std = cfg.initializer_range;
    this.q_proj = this.registerModule('q_proj', new Linear(d.C, d.NH * d.HS, { rng, bias, std }));
    this.k_proj = this.registerModule('k_proj', new Linear(d.C, d.NKV * d.HS, { rng, bias, std }));
    this.v_proj = this.registerModule('v_proj', new Linear(d.C, d.NKV * d.HS, { rng, bias, std }));
    this.o_proj = this.registerModule('o_proj', new Linear(d.NH * d.HS, d.C, { rng, bias: oBias, std }));
  }
  forward(x: Tensor, layer: number, positions: Int32Array, opts: ForwardOptions): Tensor {
    const [B, T] = x.shape;
    const { NH, NKV, HS } = this.d;
    const heads = (t: Tensor, n: number) => permute(reshape(t, [B, T, n, HS]), [0, 2, 1, 3]); // (B, n, T, HS)
    const theta = this.cfg.rope_theta;
    const q = applyRope(heads(this.q_proj.forward(x), NH), positions, theta);
    let k = applyRope(heads(this.k_proj.forward(x), NKV), positions, theta);
    let v = heads(this.v_proj.forward(x), NKV);
    if (opts.cache) [k, v] = opts.cache.extend(layer, k, v);
    const window = this.cfg.sliding_window;
    if (window && this.cfg.use_sliding_window !== false && k.shape[2] > window) {
      throw new ShapeError(
        `${this.cfg.model_type}: ${k.shape[2]} positions exceed sliding_window ${window}`,
        {
          hint: 'sliding-window attention is not implemented; use sequences within the window',
        },
      );
    }
    const y = attention(q, k, v, { causal: true, mask: opts.attentionMask ?? null }); // (B, NH, T, HS)
    return this.o_proj.forward(reshape(permute(y, [0, 2, 1, 3]), [B, T, NH * HS]));
  }
}

class LlamaMLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;
  constructor(cfg: LlamaConfig, rng: Rng | null) {
    super();
    const C = cfg.hidden_size;
    const I = cfg.intermediate_size;
    // Only Llama reads mlp_bias; Mistral and Qwen2 MLPs never have biases.
    const o = { rng, bias: cfg.model_type === 'llama' && cfg.mlp_bias, std: cfg.initializer_range };
    this.gate_proj = this.registerModule('gate_proj', new Linear(C, I, o));
    this.up_proj = this.registerModule('up_proj', new Linear(C, I, o));
    this.down_proj = this.registerModule('down_proj', new Linear(I, C, o));
  }
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(mul(silu(this.gate_proj.forward(x)), this.up_proj.forward(x)));
  }
}

class LlamaDecoderLayer extends Module {
  readonly self_attn: LlamaAttention;
  readonly mlp: LlamaMLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;
  constructor(cfg: LlamaConfig, d: Dims, rng: Rng | null) {
    super();
    this.self_attn = this.registerModule('self_attn', new LlamaAttention(cfg, d, rng));
    this.mlp = this.registerModule('mlp', new LlamaMLP(cfg, rng));
    this.input_layernorm = this.registerModule(
      'input_layernorm',
      new RMSNorm(d.C, { eps: cfg.rms_norm_eps }),
    );
    this.post_attention_layernorm = this.registerModule(
      'post_attention_layernorm',
      new RMSNorm(d.C, { eps: cfg.rms_norm_eps }),
    );
  }
}

class LlamaModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;
  constructor(cfg: LlamaConfig, d: Dims, rng: Rng | null) {
    super();
    this.embed_tokens = this.registerModule(
      'embed_tokens',
      new Embedding(cfg.vocab_size, d.C, { rng, std: cfg.initializer_range }),
    );
    this.layers = this.registerModule(
      'layers',
      new ModuleList(Array.from({ length: cfg.num_hidden_layers }, () => new LlamaDecoderLayer(cfg, d, rng))),
    );
    this.norm = this.registerModule('norm', new RMSNorm(d.C, { eps: cfg.rms_norm_eps }));
  }
}

export class LlamaForCausalLM extends Module implements CausalLM {
  readonly modelType: string;
  readonly config: LlamaConfig;
  readonly model: LlamaModel;
  readonly lm_head: Linear | null;

  /** rng null: zero weights, to be loaded from a checkpoint. */
  constructor(config: LlamaConfig, rng: Rng | null) {
    super();
    this.config = config;
    this.modelType = config.model_type;
    const d = dimsOf(config);
    this.model = this.registerModule('model', new LlamaModel(config, d, rng));
    this.lm_head = config.tie_word_embeddings
      ? null
      : this.registerModule(
          'lm_head',
          new Linear(d.C, config.vocab_size, { rng, bias: false, std: config.initializer_range }),
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
    if (ids.ndim !== 2 || ids.dtype !== 'int32')
      throw new ShapeError(`${this.modelType}: ids must be int32 (B, T)`);
    const [B, T] = ids.shape;
    const positions = opts.positions ?? defaultPositions(B, T, opts.cache?.length ?? 0);
    let h = this.model.embed_tokens.forward(ids); // (B, T, C)
    let layer = 0;
    for (const block of this.model.layers) {
      h = add(h, block.self_attn.forward(block.input_layernorm.forward(h), layer, positions, opts));
      h = add(h, block.mlp.forward(block.post_attention_layernorm.forward(h)));
      h = opts.residualHook?.(layer, h) ?? h;
      if (opts.stopAfterLayer === layer) return { logits: null };
      layer++;
    }
    h = this.model.norm.forward(h);
    const logits = this.lm_head
      ? this.lm_head.forward(h)
      : matmul(h, this.model.embed_tokens.weight, { transB: true });
    return { logits };
  }

  toHF(): Map<string, { data: Float32Array; shape: number[] }> {
    return new Map(this.namedParameters().map(([n, t]) => [n, { data: t.f32, shape: [...t.shape] }]));
  }

  /** Rotary caches saved by some versions; a tied head's duplicate. */
  get nonWeightTensors(): RegExp {
    return this.lm_head ? /\.rotary_emb\.inv_freq$/ : /\.rotary_emb\.inv_freq$|^lm_head\.weight$/;
  }

  loadHF(tensors: ReadonlyMap<string, HFTensor>, file: string): void {
    loadHFWeights(this, tensors, file, { ignore: this.nonWeightTensors });
  }
}
