/**
 * Config files from older and newer transformers versions load alike: rotary fields under their
 * old names (rotary_pct, rotary_emb_base), their 4.4x names (partial_rotary_factor, rope_theta) or
 * inside rope_parameters (5.x); torch_dtype or dtype; GPT-Neo's attention_types with or without
 * its expansion. Contradictions and RoPE scaling lethe does not implement are config errors that
 * name the field. Equivalence checks compare logits exactly (same weights, same arithmetic).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { Rng, Tensor } from '../tensor/index.ts';
import { buildModel, parseModelConfig } from './registry.ts';

const neox = {
  model_type: 'gpt_neox',
  vocab_size: 23,
  hidden_size: 16,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  intermediate_size: 24,
};
const llama = {
  model_type: 'llama',
  vocab_size: 23,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 1,
  num_attention_heads: 2,
};
const phi = { ...llama, model_type: 'phi' };

function logitsOf(config: Record<string, unknown>): Float32Array {
  const model = buildModel(config, new Rng(3));
  return model.forward(new Tensor(Int32Array.of(1, 5, 2, 9, 4, 7), [1, 6])).logits!.f32;
}

const rejects = (config: Record<string, unknown>, field: RegExp, message: RegExp) =>
  assert.throws(
    () => parseModelConfig(config, 'm/config.json'),
    (e: Error) => e instanceof ConfigError && field.test(e.message) && message.test(e.message),
  );

test('gpt_neox: rotary settings under old, 4.4x and 5.x names give the same model', () => {
  const old = { ...neox, rotary_pct: 0.5, rotary_emb_base: 500 };
  const mid = { ...neox, partial_rotary_factor: 0.5, rope_theta: 500.0 };
  const both = { ...old, partial_rotary_factor: 0.5, rope_theta: 500.0, rope_scaling: null };
  const v5 = {
    ...neox,
    rope_parameters: { rope_type: 'default', rope_theta: 500, partial_rotary_factor: 0.5 },
  };
  for (const c of [old, mid, both, v5]) {
    const parsed = parseModelConfig(c);
    assert.equal(parsed.rotary_pct, 0.5);
    assert.equal(parsed.rotary_emb_base, 500);
  }
  const reference = logitsOf(old);
  for (const c of [mid, both, v5]) assert.deepEqual(logitsOf(c), reference);
  // The defaults (rotary_pct 0.25, base 10000) are a different model.
  assert.notDeepEqual(logitsOf(neox), reference);
});

test('phi and llama read rope_parameters (transformers 5) as rope_theta / partial_rotary_factor', () => {
  assert.deepEqual(
    logitsOf({ ...llama, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }),
    logitsOf({ ...llama, rope_theta: 5e5 }),
  );
  const p = parseModelConfig({ ...phi, rope_parameters: { rope_theta: 100, partial_rotary_factor: 0.25 } });
  assert.equal(p.rope_theta, 100);
  assert.equal(p.partial_rotary_factor, 0.25);
  assert.deepEqual(
    logitsOf({ ...phi, rope_parameters: { rope_theta: 100, partial_rotary_factor: 0.25 } }),
    logitsOf({ ...phi, rope_theta: 100, partial_rotary_factor: 0.25 }),
  );
});

test('contradicting fields are refused, naming both', () => {
  rejects(
    { ...neox, rotary_pct: 0.25, partial_rotary_factor: 0.5 },
    /m\/config.json: rotary_pct/,
    /partial_rotary_factor = 0.5/,
  );
  rejects(
    { ...llama, rope_theta: 1e4, rope_parameters: { rope_type: 'default', rope_theta: 1e6 } },
    /rope_theta/,
    /rope_parameters.rope_theta = 1000000/,
  );
  rejects({ ...llama, torch_dtype: 'float16', dtype: 'bfloat16' }, /torch_dtype/, /dtype = "bfloat16"/);
  const gpt2 = { model_type: 'gpt2', vocab_size: 7, n_positions: 8, n_embd: 4, n_layer: 1, n_head: 1 };
  const neo = {
    model_type: 'gpt_neo',
    vocab_size: 7,
    hidden_size: 4,
    num_layers: 1,
    num_heads: 1,
    attention_layers: ['global'],
  };
  for (const base of [gpt2, neo, neox, phi]) {
    rejects({ ...base, torch_dtype: 'float32', dtype: 'float16' }, /torch_dtype/, /contradicts dtype/);
  }
});

test('torch_dtype (older) and dtype (newer) both load', () => {
  for (const c of [
    { torch_dtype: 'bfloat16' },
    { dtype: 'bfloat16' },
    { torch_dtype: 'float16', dtype: 'float16' },
  ]) {
    for (const base of [neox, llama, phi]) assert.doesNotThrow(() => buildModel({ ...base, ...c }, null));
  }
});

test('scaled RoPE variants are refused by name, plain RoPE spelled any way is accepted', () => {
  rejects(
    { ...llama, rope_scaling: { rope_type: 'llama3', factor: 8 } },
    /rope_scaling/,
    /"llama3" is not implemented/,
  );
  rejects(
    { ...neox, rope_scaling: { type: 'linear', factor: 2 } },
    /rope_scaling/,
    /"linear" is not implemented/,
  );
  rejects(
    { ...phi, rope_parameters: { rope_type: 'dynamic', rope_theta: 1e4 } },
    /rope_parameters/,
    /"dynamic"/,
  );
  for (const scaling of [null, { rope_type: 'default' }, { type: 'default' }]) {
    assert.doesNotThrow(() => parseModelConfig({ ...llama, rope_scaling: scaling }));
  }
});

test('gpt_neo: attention_types expands to attention_layers; a mismatch is refused', () => {
  const neo = { model_type: 'gpt_neo', vocab_size: 23, hidden_size: 16, num_layers: 4, num_heads: 2 };
  const types = [[['global', 'local'], 2]];
  assert.deepEqual(parseModelConfig({ ...neo, attention_types: types }).attention_layers, [
    'global',
    'local',
    'global',
    'local',
  ]);
  assert.doesNotThrow(() =>
    parseModelConfig({
      ...neo,
      attention_types: types,
      attention_layers: ['global', 'local', 'global', 'local'],
    }),
  );
  rejects(
    { ...neo, attention_types: [[['global', 'local'], 1]] },
    /attention_layers/,
    /2 attention layers listed for num_layers 4/,
  );
  rejects(
    { ...neo, attention_types: types, attention_layers: ['local', 'local', 'local', 'local'] },
    /attention_types/,
    /expands to/,
  );
  rejects(neo, /attention_layers/, /must list each layer/);
  rejects({ ...neo, attention_layers: ['global', 'sparse', 'global', 'local'] }, /attention_layers/, /./);
});
