/**
 * Memory needed by a model, estimated from its config alone (nothing allocated), so a model too
 * large for this machine is refused up front with the figure it would need. LETHE_MEMORY_LIMIT
 * (bytes) overrides the available-memory figure.
 */
import { freemem, totalmem } from 'node:os';
import { CheckpointError } from '../errors.ts';

/** Parameter count implied by a validated config (every registered model_type). */
export function parameterCount(c: Record<string, unknown>): number {
  const n = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : 0);
  const untied = (V: number, C: number) => (c.tie_word_embeddings === true ? 0 : V * C);
  if (c.model_type === 'gpt_neox') {
    const C = n('hidden_size');
    const I = n('intermediate_size');
    const bias = c.attention_bias !== false;
    const attn = 3 * C * C + C * C + (bias ? 4 * C : 0);
    const block = 4 * C + attn + (C * I + I) + (I * C + C);
    return n('vocab_size') * C + n('num_hidden_layers') * block + 2 * C + untied(n('vocab_size'), C);
  }
  if (c.model_type === 'phi') {
    const C = n('hidden_size');
    const NH = n('num_attention_heads');
    const NKV = n('num_key_value_heads') || NH;
    const HS = C / NH;
    const I = n('intermediate_size');
    const attn = (C + 1) * NH * HS + 2 * (C + 1) * NKV * HS + NH * HS * C + C;
    const block = 2 * C + attn + (C * I + I) + (I * C + C);
    const V = n('vocab_size');
    return V * C + n('num_hidden_layers') * block + 2 * C + V * C + V;
  }
  if (c.model_type === 'gpt_neo') {
    const C = n('hidden_size');
    const I = n('intermediate_size') || 4 * C;
    const block = 4 * C + 4 * C * C + C + (C * I + I) + (I * C + C);
    const V = n('vocab_size');
    return (
      V * C +
      n('max_position_embeddings') * C +
      n('num_layers') * block +
      2 * C +
      (c.tie_word_embeddings === false ? V * C : 0)
    );
  }
  if (c.model_type === 'gpt2') {
    const C = n('n_embd');
    const inner = n('n_inner') || 4 * C;
    const block = 4 * C + (3 * C * C + 3 * C) + (C * C + C) + (C * inner + inner) + (inner * C + C);
    return (
      n('vocab_size') * C +
      n('n_positions') * C +
      n('n_layer') * block +
      2 * C +
      (c.tie_word_embeddings === false ? n('vocab_size') * C : 0)
    );
  }
  const C = n('hidden_size');
  const NH = n('num_attention_heads');
  const NKV = n('num_key_value_heads') || NH;
  const HS = n('head_dim') || C / NH;
  const I = n('intermediate_size');
  const qwen = c.model_type === 'qwen2';
  const llama = c.model_type === 'llama';
  const qkvBias = qwen || (llama && c.attention_bias === true);
  const oBias = llama && c.attention_bias === true;
  const mlpBias = llama && c.mlp_bias === true;
  const attn =
    C * NH * HS + 2 * C * NKV * HS + NH * HS * C + (qkvBias ? NH * HS + 2 * NKV * HS : 0) + (oBias ? C : 0);
  const mlp = 3 * C * I + (mlpBias ? 2 * I + C : 0);
  const block = attn + mlp + 2 * C;
  return (
    n('vocab_size') * C +
    n('num_hidden_layers') * block +
    C +
    (c.tie_word_embeddings === true ? 0 : n('vocab_size') * C)
  );
}

export interface MemoryEstimate {
  parameters: number;
  /** Weights in float32. */
  weightsBytes: number;
  /** Weights, gradients and AdamW's two moments (activations come on top). */
  trainingBytes: number;
}

export function estimateMemory(config: Record<string, unknown>): MemoryEstimate {
  const parameters = parameterCount(config);
  return { parameters, weightsBytes: parameters * 4, trainingBytes: parameters * 16 };
}

export function availableMemory(): number {
  const limit = Number(process.env.LETHE_MEMORY_LIMIT);
  if (Number.isFinite(limit) && limit > 0) return limit;
  // Free memory plus what this process already holds; never more than 90% of the machine.
  return Math.min(freemem() + process.memoryUsage().rss, 0.9 * totalmem());
}

const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** Throw a clear error when the model would not fit (training needs ~4× the weights). */
export function checkFits(
  config: Record<string, unknown>,
  purpose: 'load' | 'train',
  where: string,
): MemoryEstimate {
  const est = estimateMemory(config);
  const need = purpose === 'train' ? est.trainingBytes : est.weightsBytes;
  const have = availableMemory();
  if (need > have) {
    throw new CheckpointError(`the model is too large to ${purpose} on this machine`, {
      where,
      expected: `at most ${gib(have)} available`,
      found: `${est.parameters.toLocaleString('en-US')} parameters need about ${gib(need)}${purpose === 'train' ? ' for weights, gradients and optimiser state' : ' for the weights'}, before activations`,
      hint: purpose === 'train' ? 'use LoRA (--lora-rank) or a smaller model' : 'use a smaller model',
    });
  }
  return est;
}
