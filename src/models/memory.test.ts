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
  {
    model_type: 'gpt_neox',
    vocab_size: 29,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 2,
  },
  {
    model_type: 'gpt_neox',
    vocab_size: 29,
    hidden_size: 16,
    intermediate_size: 20,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    attention_bias: false,
    tie_word_embeddings: true,
    rope_parameters: { rope_type: 'default', partial_rotary_factor: 0.5, rope_theta: 1e4 },
  },
  {
    model_type: 'phi',
    vocab_size: 29,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  },
  {
    model_type: 'gpt_neo',
    vocab_size: 29,
    hidden_size: 16,
    num_layers: 2,
    num_heads: 2,
    max_position_embeddings: 12,
    attention_types: [[['global', 'local'], 1]],
  },
  {
    model_type: 'gpt_neo',
    vocab_size: 29,
    hidden_size: 16,
    num_layers: 1,
    num_heads: 2,
    intermediate_size: 20,
    max_position_embeddings: 12,
    attention_layers: ['local'],
    tie_word_embeddings: false,
  },
];

test('parameter counts from configs equal those of the built models (exact)', () => {
  for (const c of configs) {
    const parsed = parseModelConfig(c);
    assert.equal(parameterCount(parsed), buildModel(parsed, null).numParameters(), JSON.stringify(c));
  }
});

test('parameter counts of released configs equal their published sizes', () => {
  // Totals as the model cards and `model.num_parameters()` report them (heads included).
  const released: [string, Record<string, unknown>, number][] = [
    [
      'EleutherAI/pythia-70m',
      {
        model_type: 'gpt_neox',
        vocab_size: 50304,
        hidden_size: 512,
        num_hidden_layers: 6,
        num_attention_heads: 8,
        intermediate_size: 2048,
      },
      70_426_624,
    ],
    [
      'EleutherAI/pythia-160m',
      {
        model_type: 'gpt_neox',
        vocab_size: 50304,
        hidden_size: 768,
        num_hidden_layers: 12,
        num_attention_heads: 12,
        intermediate_size: 3072,
      },
      162_322_944,
    ],
    [
      'EleutherAI/gpt-neo-125m',
      {
        model_type: 'gpt_neo',
        vocab_size: 50257,
        hidden_size: 768,
        num_layers: 12,
        num_heads: 12,
        attention_types: [[['global', 'local'], 6]],
      },
      125_198_592,
    ],
    [
      'microsoft/phi-1_5',
      {
        model_type: 'phi',
        vocab_size: 51200,
        hidden_size: 2048,
        intermediate_size: 8192,
        num_hidden_layers: 24,
        num_attention_heads: 32,
      },
      1_418_270_720,
    ],
    [
      'microsoft/phi-2',
      {
        model_type: 'phi',
        vocab_size: 51200,
        hidden_size: 2560,
        intermediate_size: 10240,
        num_hidden_layers: 32,
        num_attention_heads: 32,
      },
      2_779_683_840,
    ],
  ];
  for (const [name, config, published] of released) {
    assert.equal(parameterCount(parseModelConfig(config)), published, name);
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
