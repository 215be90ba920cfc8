/**
 * Each activation name computes what transformers' ACT2FN computes for it: `gelu` is the exact
 * erf form, `gelu_new`/`gelu_pytorch_tanh`/`gelu_fast` the tanh form; names lethe does not know
 * are refused when the config is parsed. Tolerance: 2e-6 absolute (float32 kernels against
 * double-precision references; the erf and tanh forms differ by up to ~2e-4 near |x| ≈ 2,
 * far outside it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { Tensor } from '../tensor/index.ts';
import { ACTIVATIONS, activate } from './activation.ts';
import { parseModelConfig } from './registry.ts';

const xs = [-3, -1.5, -1, -0.5, 0, 0.5, 1, 2, 3];
// Φ(x) for the points above (standard normal CDF, to 16 digits).
const PHI: Record<number, number> = {
  [-3]: 0.0013498980316301,
  [-1.5]: 0.0668072012688581,
  [-1]: 0.1586552539314571,
  [-0.5]: 0.3085375387259869,
  0: 0.5,
  0.5: 0.6914624612740131,
  1: 0.8413447460685429,
  2: 0.9772498680518208,
  3: 0.9986501019683699,
};
const tanhGelu = (x: number, c = Math.sqrt(2 / Math.PI)) =>
  0.5 * x * (1 + Math.tanh(c * (x + 0.044715 * x ** 3)));
const reference: Record<(typeof ACTIVATIONS)[number], (x: number) => number> = {
  gelu: (x) => x * PHI[x],
  gelu_new: (x) => tanhGelu(x),
  gelu_pytorch_tanh: (x) => tanhGelu(x),
  gelu_fast: (x) => 0.5 * x * (1 + Math.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x))),
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  relu: (x) => Math.max(0, x),
  silu: (x) => x / (1 + Math.exp(-x)),
  swish: (x) => x / (1 + Math.exp(-x)),
};

test('every activation name matches its transformers definition (2e-6 abs)', () => {
  const input = new Tensor(Float32Array.from(xs), [xs.length]);
  for (const name of ACTIVATIONS) {
    const got = activate(name, input).f32;
    xs.forEach((x, i) => {
      const want = reference[name](x);
      assert.ok(Math.abs(got[i] - want) <= 2e-6, `${name}(${x}) = ${got[i]}, expected ${want}`);
    });
  }
  // The erf and tanh forms are told apart at this tolerance.
  const erf = activate('gelu', input).f32;
  const tanh = activate('gelu_new', input).f32;
  assert.ok(Math.max(...xs.map((_, i) => Math.abs(erf[i] - tanh[i]))) > 1e-4);
});

test('an activation name lethe does not implement is refused, naming the field', () => {
  const gpt2 = { model_type: 'gpt2', vocab_size: 7, n_positions: 8, n_embd: 4, n_layer: 1, n_head: 1 };
  assert.throws(
    () => parseModelConfig({ ...gpt2, activation_function: 'gelu_10' }, 'm/config.json'),
    (e: Error) => e instanceof ConfigError && /m\/config.json: activation_function/.test(e.message),
  );
  const neox = {
    model_type: 'gpt_neox',
    vocab_size: 7,
    hidden_size: 4,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    intermediate_size: 8,
  };
  assert.throws(() => parseModelConfig({ ...neox, hidden_act: 'mish' }), /hidden_act/);
  assert.equal(parseModelConfig(neox).hidden_act, 'gelu', 'GPT-NeoX defaults to the erf gelu, as HF');
});
