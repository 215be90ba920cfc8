/** Memory estimates from configs match the built models; oversized models are refused up front. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointError } from '../errors.ts';
import { checkFits, parameterCount } from './memory.ts';
import { buildModel, parseModelConfig } from './registry.ts';

const configs = [
  { model_type: 'gpt2', vocab_size: 37, n_positions: 16, n_embd: 12, n_layer: 2, n_head: 3 },
  {
    model_type: 'gpt2',
    vocab_size: 37,
    n_positions: 16,
    n_embd: 12,
    n_layer: 1,
    n_head: 3,
    n_inner: 20,
    tie_word_embeddings: false,
  },
  {
    model_type: 'llama',
    vocab_size: 29,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  },
  {
    model_type: 'llama',
    vocab_size: 29,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    attention_bias: true,
    mlp_bias: true,
    tie_word_embeddings: true,
  },
  {
    model_type: 'qwen2',
    vocab_size: 29,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    tie_word_embeddings: true,
  },
  {
    model_type: 'mistral',
    vocab_size: 31,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 6,
  },
];

test('parameter counts from configs equal those of the built models (exact)', () => {
  for (const c of configs) {
    const parsed = parseModelConfig(c);
    assert.equal(parameterCount(parsed), buildModel(parsed, null).numParameters(), JSON.stringify(c));
  }
});

test('a model too large for the available memory is refused with an estimate', () => {
  const big = parseModelConfig({
    model_type: 'gpt2',
    vocab_size: 50257,
    n_positions: 1024,
    n_embd: 1600,
    n_layer: 48,
    n_head: 25,
  });
  const prev = process.env.LETHE_MEMORY_LIMIT;
  process.env.LETHE_MEMORY_LIMIT = String(2 ** 30);
  try {
    assert.throws(
      () => checkFits(big, 'load', 'xl/config.json'),
      (e: Error) => {
        assert.ok(e instanceof CheckpointError);
        assert.match(e.message, /xl\/config.json/);
        assert.match(e.message, /1,557,611,200 parameters need about 5\.80 GiB/);
        return true;
      },
    );
    assert.doesNotThrow(() => checkFits(parseModelConfig(configs[0]), 'train', 'tiny'));
  } finally {
    if (prev === undefined) delete process.env.LETHE_MEMORY_LIMIT;
    else process.env.LETHE_MEMORY_LIMIT = prev;
  }
});
