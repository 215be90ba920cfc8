/**
 * Model registry: HF model_type → config schema and constructor. An unsupported model_type or
 * an invalid config names the file, the field and the supported types.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { Rng } from '../tensor/index.ts';
import type { CausalLM } from './causal-lm.ts';
import { GPTNeoConfigSchema, GPTNeoForCausalLM } from './gpt-neo.ts';
import { GPTNeoXConfigSchema, GPTNeoXForCausalLM } from './gpt-neox.ts';
import { GPT2ConfigSchema, GPT2LMHeadModel } from './gpt2.ts';
import { LlamaConfigSchema, LlamaForCausalLM } from './llama.ts';
import { PhiConfigSchema, PhiForCausalLM } from './phi.ts';

interface ModelEntry {
  schema: z.ZodType<Record<string, unknown>>;
  build: (config: never, rng: Rng | null) => CausalLM;
  /** The HF class name written to config.json's `architectures`. */
  architecture: string;
}

const registry = new Map<string, ModelEntry>([
  [
    'gpt2',
    {
      schema: GPT2ConfigSchema,
      build: (c, rng) => new GPT2LMHeadModel(c, rng),
      architecture: 'GPT2LMHeadModel',
    },
  ],
  [
    'gpt_neo',
    {
      schema: GPTNeoConfigSchema,
      build: (c, rng) => new GPTNeoForCausalLM(c, rng),
      architecture: 'GPTNeoForCausalLM',
    },
  ],
  [
    'gpt_neox',
    {
      schema: GPTNeoXConfigSchema,
      build: (c, rng) => new GPTNeoXForCausalLM(c, rng),
      architecture: 'GPTNeoXForCausalLM',
    },
  ],
  [
    'llama',
    {
      schema: LlamaConfigSchema,
      build: (c, rng) => new LlamaForCausalLM(c, rng),
      architecture: 'LlamaForCausalLM',
    },
  ],
  [
    'mistral',
    {
      schema: LlamaConfigSchema,
      build: (c, rng) => new LlamaForCausalLM(c, rng),
      architecture: 'MistralForCausalLM',
    },
  ],
  [
    'phi',
    {
      schema: PhiConfigSchema,
      build: (c, rng) => new PhiForCausalLM(c, rng),
      architecture: 'PhiForCausalLM',
    },
  ],
  [
    'qwen2',
    {
      schema: LlamaConfigSchema,
      build: (c, rng) => new LlamaForCausalLM(c, rng),
      architecture: 'Qwen2ForCausalLM',
    },
  ],
]);

/** The HF class name for a model_type (config.json `architectures`). */
export function architectureName(modelType: string): string {
  return registry.get(modelType)?.architecture ?? modelType;
}

export const supportedModelTypes = (): string[] => [...registry.keys()];

/** Validate an HF config.json object and fill in defaults. `file` is named in errors. */
export function parseModelConfig(raw: unknown, file = 'config.json'): Record<string, unknown> {
  const type = (raw as { model_type?: unknown } | null)?.model_type;
  const entry = typeof type === 'string' ? registry.get(type) : undefined;
  if (!entry) {
    throw new ConfigError(`unsupported model_type ${JSON.stringify(type)}`, {
      where: `${file}: model_type`,
      expected: `one of ${supportedModelTypes().join(', ')}`,
    });
  }
  const parsed = entry.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`invalid ${type} config`, {
      where: `${file}: ${issue.path.join('.') || '(root)'}`,
      found: issue.message,
    });
  }
  return parsed.data;
}

/** Build a model from a validated config; rng null gives zero weights to load into. */
export function buildModel(config: Record<string, unknown>, rng: Rng | null, file = 'config.json'): CausalLM {
  const valid = parseModelConfig(config, file);
  const entry = registry.get(valid.model_type as string)!;
  return entry.build(valid as never, rng);
}

/** An independent copy of a model (same config, copied weights), e.g. a frozen reference. */
export function cloneModel(model: CausalLM): CausalLM {
  const copy = buildModel(model.config, null);
  copy.loadState(new Map([...model.stateDict()].map(([n, w]) => [n, w.slice()])));
  copy.eval();
  return copy;
}

/**
 * Default LoRA targets (a regex over module names) per model family: `attention` adapts the
 * attention projections (fine-tuning), `attention-mlp` the query/value projections and the MLP's
 * input projection (unlearning). Unknown types get the Llama naming.
 */
export function defaultLoraTargets(modelType: string, scope: 'attention' | 'attention-mlp'): string {
  const targets: Record<string, [attention: string, attentionMlp: string]> = {
    gpt2: ['attn\\.c_attn$', 'attn\\.c_attn$|mlp\\.c_fc$'],
    gpt_neox: ['attention\\.(query_key_value|dense)$', 'attention\\.query_key_value$|mlp\\.dense_h_to_4h$'],
    phi: ['self_attn\\.(q_proj|k_proj|v_proj|dense)$', '(q|v)_proj$|mlp\\.fc1$'],
    gpt_neo: ['attn\\.attention\\.(q|k|v|out)_proj$', '(q|v)_proj$|mlp\\.c_fc$'],
  };
  const [attention, attentionMlp] = targets[modelType] ?? [
    'self_attn\\.(q|k|v|o)_proj$',
    '(q|v)_proj$|up_proj$',
  ];
  return scope === 'attention' ? attention : attentionMlp;
}
