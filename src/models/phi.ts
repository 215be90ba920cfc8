/**
 * Phi (HF model_type "phi": Phi-1, Phi-1.5, Phi-2) as transformers' PhiForCausalLM computes it:
 * one LayerNorm per block feeding attention and MLP in parallel, x + attn(ln(x)) + mlp(ln(x));
 * separate q/k/v projections and `dense` output, all with biases (grouped-query attention when
 * num_key_value_heads is set); rotary embeddings on the first ⌊partial_rotary_factor·head_dim⌋
 * channels of each head; an fc1/fc2 MLP with the configured activation (gelu_new); a
 * final_layernorm and an untied lm_head with a bias. Module fields carry the HF names.
 *
 * Not implemented, and refused when a config asks for them: qk_layernorm and a tied head (no
 * released Phi uses either). resid_pdrop/embd_pdrop dropout is not applied.
 */
import { z } from 'zod';
import { ShapeError } from '../errors.ts';
import { Embedding, LayerNorm, Linear } from '../nn/layers.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { add, attention, permute, type Rng, reshape, type Tensor } from '../tensor/index.ts';
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

export const PhiConfigSchema = withAliases(
  [
    { field: 'rope_theta', ropeParameter: 'rope_theta' },
    { field: 'partial_rotary_factor', ropeParameter: 'partial_rotary_factor' },
  ],
  z
    .object({
      model_type: z.literal('phi'),
      vocab_size: positive,
      hidden_size: positive,
      intermediate_size: positive,
      num_hidden_layers: positive,
      num_attention_heads: positive,
      num_key_value_heads: positive.nullable().optional(),
      hidden_act: activationSchema('gelu_new'),
      max_position_embeddings: positive.default(2048),
      layer_norm_eps: z.number().positive().default(1e-5),
      rope_theta: z.number().positive().default(10000),
      partial_rotary_factor: z.number().min(0).max(1).default(0.5),
      rope_scaling: z.unknown().optional(),
      qk_layernorm: z.literal(false).default(false),
      tie_word_embeddings: z.literal(false).default(false),
      initializer_range: z.number().positive().default(0.02),
      bos_token_id: z.number().int().nullable().optional(),
      eos_token_id: z
        .union([z.number().int(), z.array(z.number().int())])
        .nullable()
        .optional(),
    })
    .loose(),
);
export type PhiConfig = z.infer<typeof PhiConfigSchema>;

interface Dims {
  C: number;
  NH: number;
  NKV: number;
  HS: number;
  rot: number;
}

function dimsOf(cfg: PhiConfig): Dims {
  const NH = cfg.num_attention_heads;
  const NKV = cfg.num_key_value_heads ?? NH;
  const HS = cfg.hidden_size / NH;
  if (!Number.isInteger(HS) || NH % NKV !== 0) {
    throw new ShapeError('phi: inconsistent attention dims', {
      found: `hidden_size ${cfg.hidden_size}, heads ${NH}, kv heads ${NKV}`,
      expected: 'hidden_size a multiple of num_attention_heads, itself a multiple of num_key_value_heads',
    });
  }
  return { C: cfg.hidden_size, NH, NKV, HS, rot: rotaryDims(HS, cfg.partial_rotary_factor, 'phi') };
}

class PhiAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly dense: Linear;
  constructor(
    private readonly cfg: PhiConfig,
    private readonly d: Dims,
    rng: Rng | null,
  ) {
    super();
    const o = { rng, std: cfg.initializer_range };
    this.q_proj = this.registerModule('q_proj', new Linear(d.C, d.NH * d.HS, o));
    this.k_proj = this.registerModule('k_proj', new Linear(d.C, d.NKV * d.HS, o));
    this.v_proj = this.registerModule('v_proj', new Linear(d.C, d.NKV * d.HS, o));
    this.dense = this.registerModule('dense', new Linear(d.NH * d.HS, d.C, o));
  }
  forward(x: Tensor, layer: number, positions: Int32Array, opts: ForwardOptions): Tensor {
    const [B, T] = x.shape;
    const { NH, NKV, HS, rot } = this.d;
    const heads = (t: Tensor, n: number) => permute(reshape(t, [B, T, n, HS]), [0, 2, 1, 3]); // (B, n, T, HS)
    const theta = this.cfg.rope_theta;
    const q = applyPartialRope(heads(this.q_proj.forward(x), NH), positions, theta, rot);
    let k = applyPartialRope(heads(this.k_proj.forward(x), NKV), positions, theta, rot);
    let v = heads(this.v_proj.forward(x), NKV);
    if (opts.cache) [k, v] = opts.cache.extend(layer, k, v);
    const y = attention(q, k, v, { causal: true, mask: opts.attentionMask ?? null }); // (B, NH, T, HS)
    return this.dense.forward(reshape(permute(y, [0, 2, 1, 3]), [B, T, NH * HS]));
  }
}

class PhiMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(
    private readonly cfg: PhiConfig,
    rng: Rng | null,
  ) {
    super();
    const o = { rng, std: cfg.initializer_range };
    this.fc1 = this.registerModule('fc1', new Linear(cfg.hidden_size, cfg.intermediate_size, o));
    this.fc2 = this.registerModule('fc2', new Linear(cfg.intermediate_size, cfg.hidden_size, o));
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(activate(this.cfg.hidden_act, this.fc1.forward(x)));
  }
}

class PhiDecoderLayer extends Module {
  readonly self_attn: PhiAttention;
  readonly mlp: PhiMLP;
  readonly input_layernorm: LayerNorm;
  constructor(cfg: PhiConfig, d: Dims, rng: Rng | null) {
    super();
    this.self_attn = this.registerModule('self_attn', new PhiAttention(cfg, d, rng));
    this.mlp = this.registerModule('mlp', new PhiMLP(cfg, rng));
    this.input_layernorm = this.registerModule(
      'input_layernorm',
      new LayerNorm(d.C, { eps: cfg.layer_norm_eps }),
    );
  }
}

class PhiModel extends Module {
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<PhiDecoderLayer>;
  readonly final_layernorm: LayerNorm;
  constructor(cfg: PhiConfig, d: Dims, rng: Rng | null) {
    super();
    this.embed_tokens = this.registerModule(
      'embed_tokens',
      new Embedding(cfg.vocab_size, d.C, { rng, std: cfg.initializer_range }),
    );
    this.layers = this.registerModule(
      'layers',
      new ModuleList(Array.from({ length: cfg.num_hidden_layers }, () => new PhiDecoderLayer(cfg, d, rng))),
    );
    this.final_layernorm = this.registerModule(
      'final_layernorm',
      new LayerNorm(d.C, { eps: cfg.layer_norm_eps }),
    );
  }
}

export class PhiForCausalLM extends Module implements CausalLM {
  readonly modelType = 'phi';
  readonly config: PhiConfig;
  readonly model: PhiModel;
  readonly lm_head: Linear;

  /** rng null: zero weights, to be loaded from a checkpoint. */
  constructor(config: PhiConfig, rng: Rng | null) {
    super();
    this.config = config;
    const d = dimsOf(config);
    this.model = this.registerModule('model', new PhiModel(config, d, rng));
    this.lm_head = this.registerModule(
      'lm_head',
      new Linear(d.C, config.vocab_size, { rng, bias: true, std: config.initializer_range }),
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
    if (ids.ndim !== 2 || ids.dtype !== 'int32') throw new ShapeError('phi: ids must be int32 (B, T)');
    const [B, T] = ids.shape;
    const positions = opts.positions ?? defaultPositions(B, T, opts.cache?.length ?? 0);
    let h = this.model.embed_tokens.forward(ids); // (B, T, C)
    let layer = 0;
    for (const block of this.model.layers) {
      const x = block.input_layernorm.forward(h);
      h = add(add(h, block.self_attn.forward(x, layer, positions, opts)), block.mlp.forward(x));
      h = opts.residualHook?.(layer, h) ?? h;
      if (opts.stopAfterLayer === layer) return { logits: null };
      layer++;
    }
    return { logits: this.lm_head.forward(this.model.final_layernorm.forward(h)) };
  }

  /** Rotary inv_freq caches that some transformers versions saved. */
  get nonWeightTensors(): RegExp {
    return /\.rotary_emb\.inv_freq$/;
  }

  toHF(): Map<string, { data: Float32Array; shape: number[] }> {
    return new Map(this.namedParameters().map(([n, t]) => [n, { data: t.f32, shape: [...t.shape] }]));
  }

  loadHF(tensors: ReadonlyMap<string, HFTensor>, file: string): void {
    loadHFWeights(this, tensors, file, { ignore: this.nonWeightTensors });
  }
}
