/**
 * GPT-Neo (HF model_type "gpt_neo": EleutherAI's GPT-Neo 125M–2.7B) as transformers'
 * GPTNeoForCausalLM computes it: GPT-2-like pre-LayerNorm blocks with learned positions and a tied
 * head, but
 *   - attention alternates per layer between global and local as `attention_layers` lists (or as
 *     `attention_types` [[["global", "local"], n], …] expands); a local layer attends only to the
 *     `window_size` most recent tokens, itself included (by sequence index, as HF's banded mask);
 *   - attention scores are NOT scaled by 1/√head_size;
 *   - q/k/v are nn.Linear without bias, out_proj with bias; the MLP's c_fc/c_proj are nn.Linear
 *     (weights (out, in), unlike GPT-2's Conv1D), named under `attn.attention.` as in HF.
 * Dropout fields (embed/resid/attention_dropout, 0 in the released configs) are not applied.
 */
import { z } from 'zod';
import { ShapeError } from '../errors.ts';
import { Embedding, LayerNorm, Linear } from '../nn/layers.ts';
import { Module, ModuleList } from '../nn/module.ts';
import { add, attention, gather, matmul, permute, type Rng, reshape, Tensor } from '../tensor/index.ts';
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

const positive = z.number().int().positive();
const kind = z.enum(['global', 'local']);

/** HF's expand_attention_types_params: [[kinds, n], …] → kinds repeated n times, concatenated. */
export function expandAttentionTypes(types: readonly (readonly [readonly string[], number])[]): string[] {
  return types.flatMap(([kinds, n]) => Array.from({ length: n }, () => kinds).flat());
}

export const GPTNeoConfigSchema = withAliases(
  [],
  z.preprocess(
    (raw) => {
      // Configs carry attention_types, and (when saved by transformers) its expansion too.
      if (typeof raw !== 'object' || raw === null) return raw;
      const r = raw as Record<string, unknown>;
      if (r.attention_layers !== undefined || !Array.isArray(r.attention_types)) return raw;
      try {
        return { ...r, attention_layers: expandAttentionTypes(r.attention_types as never) };
      } catch {
        return raw; // malformed attention_types: the schema reports it
      }
    },
    z
      .object({
        model_type: z.literal('gpt_neo'),
        vocab_size: positive,
        hidden_size: positive,
        num_layers: positive,
        num_heads: positive,
        max_position_embeddings: positive.default(2048),
        intermediate_size: positive.nullable().default(null),
        activation_function: activationSchema('gelu_new'),
        attention_types: z.array(z.tuple([z.array(kind), z.number().int().nonnegative()])).optional(),
        attention_layers: z.array(kind, {
          error: 'attention_layers (or attention_types) must list each layer',
        }),
        window_size: positive.default(256),
        layer_norm_epsilon: z.number().positive().default(1e-5),
        tie_word_embeddings: z.boolean().default(true),
        initializer_range: z.number().positive().default(0.02),
        bos_token_id: z.number().int().nullable().optional(),
        eos_token_id: z.number().int().nullable().optional(),
      })
      .loose()
      .superRefine((c, ctx) => {
        if (c.attention_layers.length !== c.num_layers) {
          ctx.addIssue({
            code: 'custom',
            path: ['attention_layers'],
            message: `${c.attention_layers.length} attention layers listed for num_layers ${c.num_layers}`,
          });
        }
        const expanded = c.attention_types && expandAttentionTypes(c.attention_types);
        if (expanded && expanded.join() !== c.attention_layers.join()) {
          ctx.addIssue({
            code: 'custom',
            path: ['attention_types'],
            message: `attention_types expands to [${expanded.join(', ')}], not attention_layers [${c.attention_layers.join(', ')}]`,
          });
        }
      }),
  ),
);
export type GPTNeoConfig = z.infer<typeof GPTNeoConfigSchema>;

/** Additive (1, 1, Tq, Tk) mask hiding keys window or more tokens before each query. */
function localWindowMask(tq: number, tk: number, window: number): Tensor {
  const m = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    const qi = tk - tq + i; // the query's index among the keys (queries are the last tq)
    for (let j = 0; j < tk; j++) if (qi - j >= window) m[i * tk + j] = -Infinity;
  }
  return new Tensor(m, [1, 1, tq, tk]);
}

class GPTNeoSelfAttention extends Module {
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly q_proj: Linear;
  readonly out_proj: Linear;
  constructor(
    private readonly cfg: GPTNeoConfig,
    private readonly local: boolean,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.hidden_size;
    const std = cfg.initializer_range;
    this.k_proj = this.registerModule('k_proj', new Linear(C, C, { rng, bias: false, std }));
    this.v_proj = this.registerModule('v_proj', new Linear(C, C, { rng, bias: false, std }));
    this.q_proj = this.registerModule('q_proj', new Linear(C, C, { rng, bias: false, std }));
    this.out_proj = this.registerModule('out_proj', new Linear(C, C, { rng, bias: true, std }));
  }
  forward(x: Tensor, layer: number, opts: ForwardOptions): Tensor {
    const [B, T, C] = x.shape;
    const NH = this.cfg.num_heads;
    const HS = C / NH;
    const heads = (t: Tensor) => permute(reshape(t, [B, T, NH, HS]), [0, 2, 1, 3]); // (B, NH, T, HS)
    const q = heads(this.q_proj.forward(x));
    let k = heads(this.k_proj.forward(x));
    let v = heads(this.v_proj.forward(x));
    if (opts.cache) [k, v] = opts.cache.extend(layer, k, v);
    const tk = k.shape[2];
    let mask = opts.attentionMask ?? null;
    if (this.local && tk > this.cfg.window_size) {
      const band = localWindowMask(T, tk, this.cfg.window_size);
      mask = mask ? add(mask, band) : band;
    }
    const y = attention(q, k, v, { causal: true, mask, scale: 1 }); // GPT-Neo does not scale scores
    return this.out_proj.forward(reshape(permute(y, [0, 2, 1, 3]), [B, T, C]));
  }
}

/** HF's wrapper module (it only adds the `attention.` level to the names). */
class GPTNeoAttention extends Module {
  readonly attention: GPTNeoSelfAttention;
  constructor(cfg: GPTNeoConfig, local: boolean, rng: Rng | null) {
    super();
    this.attention = this.registerModule('attention', new GPTNeoSelfAttention(cfg, local, rng));
  }
}

class GPTNeoMLP extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  constructor(
    private readonly cfg: GPTNeoConfig,
    rng: Rng | null,
  ) {
    super();
    const C = cfg.hidden_size;
    const inner = cfg.intermediate_size ?? 4 * C;
    const o = { rng, std: cfg.initializer_range };
    this.c_fc = this.registerModule('c_fc', new Linear(C, inner, o));
    this.c_proj = this.registerModule('c_proj', new Linear(inner, C, o));
  }
  forward(x: Tensor): Tensor {
    return this.c_proj.forward(activate(this.cfg.activation_function, this.c_fc.forward(x)));
  }
}

class GPTNeoBlock extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPTNeoAttention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPTNeoMLP;
  constructor(cfg: GPTNeoConfig, local: boolean, rng: Rng | null) {
    super();
    const eps = cfg.layer_norm_epsilon;
    this.ln_1 = this.registerModule('ln_1', new LayerNorm(cfg.hidden_size, { eps }));
    this.attn = this.registerModule('attn', new GPTNeoAttention(cfg, local, rng));
    this.ln_2 = this.registerModule('ln_2', new LayerNorm(cfg.hidden_size, { eps }));
    this.mlp = this.registerModule('mlp', new GPTNeoMLP(cfg, rng));
  }
}

class GPTNeoModel extends Module {
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly h: ModuleList<GPTNeoBlock>;
  readonly ln_f: LayerNorm;
  constructor(cfg: GPTNeoConfig, rng: Rng | null) {
    super();
    const std = cfg.initializer_range;
    this.wte = this.registerModule('wte', new Embedding(cfg.vocab_size, cfg.hidden_size, { rng, std }));
    this.wpe = this.registerModule(
      'wpe',
      new Embedding(cfg.max_position_embeddings, cfg.hidden_size, { rng, std }),
    );
    this.h = this.registerModule(
      'h',
      new ModuleList(cfg.attention_layers.map((k) => new GPTNeoBlock(cfg, k === 'local', rng))),
    );
    this.ln_f = this.registerModule('ln_f', new LayerNorm(cfg.hidden_size, { eps: cfg.layer_norm_epsilon }));
  }
}

export class GPTNeoForCausalLM extends Module implements CausalLM {
  readonly modelType = 'gpt_neo';
  readonly config: GPTNeoConfig;
  readonly transformer: GPTNeoModel;
  readonly lm_head: Linear | null;

  /** rng null: zero weights, to be loaded from a checkpoint. */
  constructor(config: GPTNeoConfig, rng: Rng | null) {
    super();
    this.config = config;
    if (config.hidden_size % config.num_heads !== 0) {
      throw new ShapeError(
        `gpt_neo: hidden_size ${config.hidden_size} is not a multiple of num_heads ${config.num_heads}`,
      );
    }
    this.transformer = this.registerModule('transformer', new GPTNeoModel(config, rng));
    this.lm_head = config.tie_word_embeddings
      ? null
      : this.registerModule(
          'lm_head',
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
    return this.config.num_layers;
  }
  get hiddenSize(): number {
    return this.config.hidden_size;
  }
  get maxPositions(): number {
    return this.config.max_position_embeddings;
  }

  newCache(): KVCache {
    return new KVCache(this.config.num_layers);
  }

  forward(ids: Tensor, opts: ForwardOptions = {}): ForwardResult {
    if (ids.ndim !== 2 || ids.dtype !== 'int32') throw new ShapeError('gpt_neo: ids must be int32 (B, T)');
    const [B, T] = ids.shape;
    const positions = opts.positions ?? defaultPositions(B, T, opts.cache?.length ?? 0);
    const P = this.config.max_position_embeddings;
    for (const p of positions) {
      if (p >= P) {
        throw new ShapeError(`gpt_neo: position ${p} is beyond max_position_embeddings = ${P}`, {
          hint: 'shorten the input or the generation length',
        });
      }
    }
    const tr = this.transformer;
    let h = add(tr.wte.forward(ids), gather(tr.wpe.weight, new Tensor(positions, [B, T]))); // (B, T, C)
    let layer = 0;
    for (const block of tr.h) {
      h = add(h, block.attn.attention.forward(block.ln_1.forward(h), layer, opts));
      h = add(h, block.mlp.forward(block.ln_2.forward(h)));
      h = opts.residualHook?.(layer, h) ?? h;
      if (opts.stopAfterLayer === layer) return { logits: null };
      layer++;
    }
    h = tr.ln_f.forward(h);
    const logits = this.lm_head ? this.lm_head.forward(h) : matmul(h, tr.wte.weight, { transB: true });
    return { logits };
  }

  /** Causal/local mask buffers (attn.attention.bias, BOOL; masked_bias) and a tied head's copy. */
  get nonWeightTensors(): RegExp {
    return this.lm_head
      ? /\.attn\.attention\.(masked_)?bias$/
      : /\.attn\.attention\.(masked_)?bias$|^lm_head\.weight$/;
  }

  toHF(): Map<string, { data: Float32Array; shape: number[] }> {
    return new Map(this.namedParameters().map(([n, t]) => [n, { data: t.f32, shape: [...t.shape] }]));
  }

  loadHF(tensors: ReadonlyMap<string, HFTensor>, file: string): void {
    loadHFWeights(this, tensors, file, {
      // Files saved from GPTNeoModel name tensors without the "transformer." prefix (HF loads both).
      rename: (n) => (n.startsWith('transformer.') || n.startsWith('lm_head.') ? n : `transformer.${n}`),
      ignore: this.nonWeightTensors,
    });
  }
}
