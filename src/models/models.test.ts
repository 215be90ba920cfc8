/** Model construction, config validation, forward shapes, KV cache and padding equivalences, hooks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { applyLora } from '../nn/lora.ts';
import { crossEntropy, noGrad, Rng, Tensor } from '../tensor/index.ts';
import { generate } from '../text/generate.ts';
import { buildModel, defaultLoraTargets, parseModelConfig } from './registry.ts';

const gpt2 = { model_type: 'gpt2', vocab_size: 37, n_positions: 48, n_embd: 24, n_layer: 2, n_head: 3 };
const llama = {
  model_type: 'llama',
  vocab_size: 37,
  hidden_size: 24,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
};
const qwen2 = { ...llama, model_type: 'qwen2', tie_word_embeddings: true };
const pythia = {
  model_type: 'gpt_neox',
  vocab_size: 37,
  hidden_size: 24,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 3, // head size 8: rotary on 2 channels
  rotary_pct: 0.25,
  max_position_embeddings: 64,
  initializer_range: 0.3, // weights large enough that the output depends on every attended token
};
const neoxSequential = { ...pythia, use_parallel_residual: false, rotary_pct: 1, hidden_act: 'gelu_new' };
// Grouped-query Phi: 4 heads of 8 sharing 2 kv heads, rotary on 4 channels.
const phi = {
  ...llama,
  model_type: 'phi',
  hidden_size: 32,
  partial_rotary_factor: 0.5,
  initializer_range: 0.3,
};
// Window 3 < prompt + generated length, so the local layer's band matters under the cache too.
const gptNeo = {
  model_type: 'gpt_neo',
  vocab_size: 37,
  hidden_size: 24,
  num_layers: 3,
  num_heads: 3,
  max_position_embeddings: 48,
  attention_types: [[['local', 'global', 'local'], 1]],
  window_size: 3,
  initializer_range: 0.3,
};

test('invalid configs name the field and the supported model types', () => {
  assert.throws(
    () => parseModelConfig({ model_type: 'bert' }, 'x/config.json'),
    (e: Error) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /x\/config.json: model_type/);
      assert.match(e.message, /gpt2, gpt_neo, gpt_neox, llama, mistral, phi, qwen2/);
      return true;
    },
  );
  assert.throws(() => parseModelConfig({ ...gpt2, n_layer: -1 }), /config.json: n_layer/);
  assert.throws(() => parseModelConfig({ ...llama, vocab_size: 'many' }), /vocab_size/);
  assert.throws(() => buildModel({ ...llama, num_key_value_heads: 3 }, null), /inconsistent attention dims/);
});

test('parameter names follow the HF checkpoints', () => {
  const g = buildModel(gpt2, null)
    .namedParameters()
    .map(([n]) => n);
  assert.ok(g.includes('transformer.h.1.attn.c_attn.weight') && g.includes('transformer.ln_f.bias'));
  assert.ok(!g.includes('lm_head.weight')); // tied to transformer.wte.weight
  const l = buildModel(llama, null)
    .namedParameters()
    .map(([n]) => n);
  assert.ok(l.includes('model.layers.0.self_attn.k_proj.weight') && l.includes('lm_head.weight'));
  assert.ok(!l.includes('model.layers.0.self_attn.q_proj.bias'));
  const q = buildModel(qwen2, null)
    .namedParameters()
    .map(([n]) => n);
  assert.ok(q.includes('model.layers.0.self_attn.q_proj.bias') && !q.includes('lm_head.weight'));
});

for (const cfg of [gpt2, llama, qwen2, pythia, neoxSequential, phi, gptNeo]) {
  const label = cfg === neoxSequential ? 'gpt_neox (sequential residual)' : cfg.model_type;
  test(`${label}: KV-cache decoding and left-padded batches match full recomputation`, () => {
    const model = buildModel(cfg, new Rng(5));
    const prompts = [
      [3, 9, 4, 1, 7],
      [8, 2],
    ];
    const steps = 6;
    const cached = generate(model, prompts, { maxNewTokens: steps });
    // Reference: greedy decoding by re-running the whole sequence each step, one prompt at a time.
    prompts.forEach((p, b) => {
      const seq = [...p];
      noGrad(() => {
        for (let s = 0; s < steps; s++) {
          const logits = model.forward(new Tensor(Int32Array.from(seq), [1, seq.length])).logits!;
          const row = logits.f32.subarray((seq.length - 1) * cfg.vocab_size, seq.length * cfg.vocab_size);
          seq.push(row.indexOf(Math.max(...row)));
        }
      });
      assert.deepEqual(cached.tokens[b], seq.slice(p.length), `row ${b}`);
    });
  });
}

for (const cfg of [pythia, neoxSequential, phi, gptNeo]) {
  const label = cfg === neoxSequential ? 'gpt_neox (sequential residual)' : cfg.model_type;
  test(`${label}: logits decoded token by token through the KV cache equal one full pass (1e-5 rel)`, () => {
    const model = buildModel(cfg, new Rng(7));
    const seq = [5, 11, 2, 30, 7, 19, 3, 8, 26];
    const V = cfg.vocab_size;
    noGrad(() => {
      const full = model.forward(new Tensor(Int32Array.from(seq), [1, seq.length])).logits!.f32; // (1, T, V)
      const scale = Math.max(...full.map(Math.abs));
      const cache = model.newCache();
      // A 3-token prefill, then one token at a time.
      const pre = model.forward(new Tensor(Int32Array.from(seq.slice(0, 3)), [1, 3]), { cache }).logits!.f32;
      const steps = [pre];
      for (let t = 3; t < seq.length; t++) {
        steps.push(model.forward(new Tensor(Int32Array.of(seq[t]), [1, 1]), { cache }).logits!.f32);
      }
      const incremental = Float32Array.from(steps.flatMap((a) => [...a]));
      assert.equal(incremental.length, seq.length * V);
      let err = 0;
      for (let i = 0; i < full.length; i++) err = Math.max(err, Math.abs(full[i] - incremental[i]));
      assert.ok(err <= 1e-5 * scale, `max abs error ${err} vs scale ${scale}`);
      // The check has teeth: without the first token the last position's logits change.
      const shorter = model.forward(new Tensor(Int32Array.from(seq.slice(1)), [1, seq.length - 1])).logits!
        .f32;
      const last = (a: Float32Array) => a.subarray(a.length - V);
      assert.ok(last(shorter).some((v, i) => Math.abs(v - last(full)[i]) > 1e-3 * scale));
    });
  });
}

test('default LoRA targets adapt the intended modules of every family', () => {
  const cases: [Record<string, unknown>, string[], string[]][] = [
    [gpt2, ['transformer.h.0.attn.c_attn'], ['transformer.h.0.attn.c_attn', 'transformer.h.0.mlp.c_fc']],
    [
      llama,
      ['model.layers.0.self_attn.q_proj', 'model.layers.0.self_attn.o_proj'],
      ['model.layers.0.self_attn.v_proj', 'model.layers.0.mlp.up_proj'],
    ],
    [
      pythia,
      ['gpt_neox.layers.0.attention.query_key_value', 'gpt_neox.layers.0.attention.dense'],
      ['gpt_neox.layers.0.attention.query_key_value', 'gpt_neox.layers.0.mlp.dense_h_to_4h'],
    ],
    [
      phi,
      ['model.layers.0.self_attn.k_proj', 'model.layers.0.self_attn.dense'],
      ['model.layers.0.self_attn.q_proj', 'model.layers.0.mlp.fc1'],
    ],
    [
      gptNeo,
      ['transformer.h.0.attn.attention.q_proj', 'transformer.h.0.attn.attention.out_proj'],
      ['transformer.h.0.attn.attention.v_proj', 'transformer.h.0.mlp.c_fc'],
    ],
  ];
  for (const [cfg, attention, attentionMlp] of cases) {
    for (const [scope, expected] of [
      ['attention', attention],
      ['attention-mlp', attentionMlp],
    ] as const) {
      const model = buildModel(cfg, null);
      const { modules } = applyLora(model, { targets: defaultLoraTargets(model.modelType, scope), rank: 2 });
      for (const m of expected) assert.ok(modules.includes(m), `${model.modelType} ${scope}: ${m} adapted`);
      assert.ok(
        !modules.some((m) => /embed|wte|lm_head|embed_out/.test(m)),
        `${model.modelType}: no head adapted`,
      );
    }
  }
});

test('residual hooks see every block, can steer, and stopAfterLayer ends early', () => {
  const model = buildModel(llama, new Rng(2));
  const ids = new Tensor(Int32Array.of(1, 2, 3, 4), [1, 4]);
  const seen: number[] = [];
  const base = model.forward(ids, { residualHook: (l, h) => void seen.push(l, h.shape[2]) }).logits!;
  assert.deepEqual(seen, [0, 24, 1, 24]);
  const early = model.forward(ids, { stopAfterLayer: 0, residualHook: () => undefined });
  assert.equal(early.logits, null);
  const steered = model.forward(ids, { residualHook: (l, h) => (l === 1 ? h.mul(0) : undefined) }).logits!;
  assert.notDeepEqual(Array.from(steered.f32.slice(0, 5)), Array.from(base.f32.slice(0, 5)));
  // The hook is differentiable: a loss on the hidden state reaches the embeddings.
  let hidden: Tensor | null = null;
  model.forward(ids, {
    stopAfterLayer: 0,
    residualHook: (_l, h) => {
      hidden = h;
      return undefined;
    },
  });
  hidden!.mul(hidden!).sum().backward();
  assert.ok(model.parameter('model.embed_tokens.weight').grad!.f32.some((g) => g !== 0));
  model.zeroGrad();
});

test('learned positions beyond n_positions are refused', () => {
  const model = buildModel({ ...gpt2, n_positions: 4 }, new Rng(1));
  assert.throws(() => model.forward(new Tensor(new Int32Array(5), [1, 5])), /beyond n_positions = 4/);
});

test('a forward pass gives a loss near log(V) at initialisation', () => {
  for (const cfg of [gpt2, llama]) {
    const model = buildModel(cfg, new Rng(9));
    const ids = new Tensor(
      Int32Array.from({ length: 16 }, (_, i) => (i * 5) % 37),
      [2, 8],
    );
    const targets = new Tensor(
      Int32Array.from({ length: 16 }, (_, i) => (i * 11 + 3) % 37),
      [2, 8],
    );
    const loss = crossEntropy(model.forward(ids).logits!, targets).item();
    assert.ok(Math.abs(loss - Math.log(37)) < 0.3, `${cfg.model_type}: ${loss}`); // small init → near-uniform
  }
});
