/** LoRA: a no-op at start, only adapters train, merging reproduces the adapted model. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel } from '../models/registry.ts';
import { noGrad, Rng, Tensor } from '../tensor/index.ts';
import { train } from '../train/trainer.ts';
import { applyLora, mergeLora } from './lora.ts';

const configs = [
  {
    model_type: 'llama',
    vocab_size: 30,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
  },
  { model_type: 'gpt2', vocab_size: 30, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2 },
];
const targets = { llama: /self_attn\.(q|v)_proj$/, gpt2: /attn\.c_attn$|mlp\.c_fc$/ };
const ids = new Tensor(
  Int32Array.from({ length: 12 }, (_, i) => (i * 7) % 30),
  [2, 6],
);
const logitsOf = (m: ReturnType<typeof buildModel>) => noGrad(() => Array.from(m.forward(ids).logits!.f32));
const examples = Array.from({ length: 6 }, (_, i) => ({ ids: [1, 2 + i, 3, 10 + i, 20 + i], start: 3 }));

for (const cfg of configs) {
  test(`${cfg.model_type}: LoRA trains only adapters and merges exactly (tolerance 1e-5)`, async () => {
    const model = buildModel(cfg, new Rng(3));
    const names = model.namedParameters().map(([n]) => n);
    const base = logitsOf(model);
    const before = new Map(model.namedParameters().map(([n, t]) => [n, t.f32.slice()]));
    const lora = applyLora(model, {
      targets: targets[cfg.model_type as 'llama' | 'gpt2'],
      rank: 4,
      alpha: 8,
      seed: 1,
    });
    assert.equal(lora.modules.length, 4);
    assert.deepEqual(logitsOf(model), base); // B = 0: the adapted model starts as the base model
    const r = await train(model, examples, {
      steps: 20,
      batchSize: 3,
      lr: 1e-2,
      progress: false,
      trainable: lora.trainable,
    });
    assert.equal(r.trainableParameters, lora.parameters);
    for (const [n, t] of model.namedParameters()) {
      if (!lora.trainable(n)) assert.deepEqual(t.f32, before.get(n), `${n} changed`);
    }
    const adapted = logitsOf(model);
    assert.notDeepEqual(adapted, base);
    assert.equal(mergeLora(model), 4);
    assert.deepEqual(
      model.namedParameters().map(([n]) => n),
      names,
    );
    const merged = logitsOf(model);
    const worst = Math.max(...merged.map((x, i) => Math.abs(x - adapted[i])));
    assert.ok(worst < 1e-5, `merged differs by ${worst}`);
  });
}

test('LoRA targets that match nothing list what exists', () => {
  const model = buildModel(configs[0], new Rng(1));
  assert.throws(() => applyLora(model, { targets: 'nope', rank: 2 }), /match no linear module[\s\S]*q_proj/);
  assert.throws(() => applyLora(model, { targets: 'q_proj', rank: 0 }), /rank/);
});
