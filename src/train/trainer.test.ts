/** The training loop: memorisation, exact resume, masks, selection, accumulation, numeric guards. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NumericError } from '../errors.ts';
import { buildModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { generate } from '../text/generate.ts';
import { train } from './trainer.ts';

const config = {
  model_type: 'llama',
  vocab_size: 40,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
};
const EOS = 39;
// Eight "questions" (1, 2+i, 3) with four-token answers ending in EOS.
const qa = Array.from({ length: 8 }, (_, i) => {
  const q = [1, 2 + i, 3];
  const a = [10 + i, 20 + ((i * 3) % 8), 30 + (i % 5), EOS];
  return { q, a, example: { ids: [...q, ...a], start: q.length } as Example };
});
const examples = qa.map((x) => x.example);
const fresh = () => buildModel(config, new Rng(1));
const tmp = () => mkdtempSync(join(tmpdir(), 'lethe-train-'));
const weights = (m: ReturnType<typeof fresh>) => m.parameters().map((p) => Array.from(p.f32));

test('a tiny model memorises a QA set and answers it by greedy generation', async () => {
  const model = fresh();
  const r = await train(model, examples, {
    steps: 150,
    batchSize: 4,
    lr: 3e-3,
    schedule: 'constant',
    progress: false,
  });
  assert.ok(r.finalLoss < 0.05, `final loss ${r.finalLoss}`);
  const g = generate(
    model,
    qa.map((x) => x.q),
    { maxNewTokens: 6, eosTokenIds: [EOS] },
  );
  qa.forEach((x, i) => {
    assert.deepEqual(g.tokens[i], x.a);
  });
  assert.ok(g.finishReasons.every((f) => f === 'eos'));
});

test('an interrupted run resumed from its checkpoint ends bit-identical to an uninterrupted one', async () => {
  const opts = {
    steps: 12,
    batchSize: 3,
    lr: 1e-2,
    warmupSteps: 2,
    seed: 4,
    progress: false,
    checkpointEvery: 5,
  } as const;
  const whole = fresh();
  await train(whole, examples, { ...opts, checkpointDir: tmp() });
  const dir = tmp();
  const first = fresh();
  // Stop after step 7: the newest checkpoint is from step 5, so steps 6–7 are redone on resume.
  await train(first, examples, {
    ...opts,
    checkpointDir: dir,
    logFile: join(dir, 'log.jsonl'),
    onStep: (l) => (l.step === 7 ? 'stop' : undefined),
  });
  const resumed = fresh();
  const r = await train(resumed, examples, {
    ...opts,
    checkpointDir: dir,
    resume: true,
    logFile: join(dir, 'log.jsonl'),
  });
  assert.equal(r.steps, 12);
  assert.deepEqual(weights(resumed), weights(whole));
  const steps = readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  rmSync(dir, { recursive: true });
});

test('masked-out weights and unselected parameters stay bit-for-bit unchanged (weight decay on)', async () => {
  const model = fresh();
  const name = 'model.layers.0.mlp.down_proj.weight';
  const p = model.parameter(name);
  const mask = Float32Array.from({ length: p.size }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const before = p.f32.slice();
  const frozen = model.parameter('model.embed_tokens.weight').f32.slice();
  await train(model, examples, {
    steps: 5,
    batchSize: 4,
    lr: 1e-2,
    weightDecay: 0.1,
    progress: false,
    trainable: (n) => n.startsWith('model.layers.'),
    masks: new Map([[name, mask]]),
  });
  let changed = 0;
  for (let i = 0; i < p.size; i++) {
    if (mask[i] === 0) assert.equal(p.f32[i], before[i]);
    else if (p.f32[i] !== before[i]) changed++;
  }
  assert.ok(changed > 0, 'unmasked weights should move');
  assert.deepEqual(model.parameter('model.embed_tokens.weight').f32, frozen);
  assert.equal(model.parameter('model.embed_tokens.weight').requiresGrad, true); // restored after training
});

test('gradient accumulation over equal micro-batches matches one large batch (tolerance 1e-5)', async () => {
  const a = fresh();
  const b = fresh();
  const base = { steps: 3, lr: 1e-2, progress: false, shuffle: false, clipNorm: 0 } as const;
  await train(a, examples, { ...base, batchSize: 8 });
  await train(b, examples, { ...base, batchSize: 4, gradAccum: 2 });
  const wa = weights(a).flat();
  const wb = weights(b).flat();
  const worst = Math.max(...wa.map((x, i) => Math.abs(x - wb[i])));
  assert.ok(worst < 1e-5, `max difference ${worst}`);
});

test('a loss that becomes NaN stops the run with a NumericError and no checkpoint', async () => {
  const model = fresh();
  const dir = tmp();
  await assert.rejects(
    train(model, examples, {
      steps: 3,
      batchSize: 4,
      lr: 1e-2,
      progress: false,
      checkpointDir: dir,
      checkpointEvery: 1,
      loss: (m, b) => {
        const { logits } = m.forward(b.inputs);
        return { loss: logits!.sum().mul(Number.NaN) };
      },
    }),
    (e: Error) => e instanceof NumericError && /loss became NaN at step 1/.test(e.message),
  );
  assert.throws(() => readFileSync(join(dir, 'checkpoint', 'state.json')));
  rmSync(dir, { recursive: true });
});

test('bad options are clear errors', async () => {
  await assert.rejects(train(fresh(), examples, { batchSize: 4, lr: 1e-3 }), /exactly one of them/);
  await assert.rejects(train(fresh(), examples, { steps: 1, batchSize: 0, lr: 1e-3 }), /batchSize/);
  await assert.rejects(
    train(fresh(), [{ ids: [1, 99], start: 1 }], { steps: 1, batchSize: 1, lr: 1e-3 }),
    /token id 99/,
  );
  await assert.rejects(
    train(fresh(), examples, { steps: 1, batchSize: 1, lr: 1e-3, trainable: () => false }),
    /trainable/,
  );
});

test('periodic evaluation keeps the best step and restores its weights', async () => {
  const model = fresh();
  let snapshot: number[][] = [];
  // A made-up metric that is best (lowest) at step 4: those weights must come back at the end.
  const r = await train(model, examples, {
    steps: 8,
    batchSize: 4,
    lr: 1e-2,
    progress: false,
    evalEvery: 2,
    evaluate: (m, step) => {
      if (step === 4) snapshot = weights(m);
      return { distance: Math.abs(step - 4) };
    },
    selectBest: { metric: 'distance', mode: 'min' },
  });
  assert.equal(r.bestStep, 4);
  assert.deepEqual(weights(model), snapshot);
});
