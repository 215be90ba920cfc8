/**
 * Every registered method on a tiny memorised QA task: a full run finishes in seconds and makes
 * the forget answers less likely; modifiers (masks, layer selection, LoRA, Sophia, sequential
 * requests, early stopping) and argument validation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitNll, tinyWorld } from '../../test/helpers/unlearn-world.ts';
import { emptySplit } from '../data/task.ts';
import { ConfigError, DataError } from '../errors.ts';
import { gaMethods } from './methods/ga.ts';
import { allMethods, listMethods, registerMethod } from './registry.ts';
import { unlearn } from './runner.ts';

const quick = { epochs: 3, lr: 2e-3, batchSize: 4 };

test('the registry holds the built-in methods in order, and refuses a duplicate name', () => {
  assert.deepEqual(listMethods().slice(0, 4), ['ga', 'grad-diff', 'ga-kl', 'random-label']);
  assert.equal(listMethods().length, 16);
  assert.throws(
    () => registerMethod(gaMethods[0]),
    (e: unknown) => e instanceof ConfigError && /"ga" is registered twice/.test(e.message),
  );
});

describe('every method on the tiny task', () => {
  for (const method of allMethods()) {
    test(`${method.name}: finishes and raises the forget NLL`, async () => {
      const { task, tokenizer, model } = await tinyWorld();
      const before = splitNll(model, tokenizer, task, 'forget');
      const weightsBefore = model.parameters().map((p) => p.f32.slice());
      const t0 = performance.now();
      const r = await unlearn({
        model,
        tokenizer,
        task,
        method: method.name,
        args: method.kind === 'gradient' ? quick : {},
        progress: false,
      });
      const seconds = (performance.now() - t0) / 1000;
      assert.ok(seconds < 30, `${method.name} took ${seconds.toFixed(1)} s`);
      if (method.kind === 'input') {
        assert.ok(r.transform, 'an input method returns its prompt transform');
        model.parameters().forEach((p, i) => assert.deepEqual(p.f32, weightsBefore[i]));
        return;
      }
      const after = splitNll(model, tokenizer, task, 'forget');
      assert.ok(after > before, `${method.name}: forget NLL ${before.toFixed(3)} → ${after.toFixed(3)}`);
    });
  }
});

test('one gradient step of GA lowers the forget likelihood', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  const before = splitNll(model, tokenizer, task, 'forget');
  await unlearn({
    model,
    tokenizer,
    task,
    method: 'ga',
    args: { steps: 1, lr: 1e-3, batchSize: 4 },
    progress: false,
  });
  assert.ok(splitNll(model, tokenizer, task, 'forget') > before);
});

test('a saliency mask keeps every masked-out weight bit-for-bit', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  const before = new Map(model.namedParameters().map(([n, p]) => [n, p.f32.slice()]));
  await unlearn({
    model,
    tokenizer,
    task,
    method: 'grad-diff',
    args: { ...quick, mask: 'wagle', maskSparsity: 0.05, weightDecay: 0.1 },
    progress: false,
  });
  let changed = 0;
  let total = 0;
  for (const [n, p] of model.namedParameters()) {
    const b = before.get(n)!;
    for (let i = 0; i < b.length; i++) if (p.f32[i] !== b[i]) changed++;
    total += b.length;
  }
  assert.ok(changed > 0 && changed <= Math.ceil(0.05 * total) + 1, `${changed} of ${total} weights changed`);
});

test('layer selection, LoRA and Sophia are accepted by any gradient method', async () => {
  for (const args of [{ layers: 'h\\.1\\.' }, { lora: 2 }, { optimizer: 'sophia', lr: 1e-3 }]) {
    const { task, tokenizer, model } = await tinyWorld();
    const names = model.namedParameters().map(([n]) => n);
    const frozen = model.parameter('transformer.h.0.mlp.c_fc.weight').f32.slice();
    const before = splitNll(model, tokenizer, task, 'forget');
    await unlearn({ model, tokenizer, task, method: 'npo', args: { ...quick, ...args }, progress: false });
    assert.ok(splitNll(model, tokenizer, task, 'forget') > before, JSON.stringify(args));
    assert.deepEqual(
      model.namedParameters().map(([n]) => n),
      names,
    ); // LoRA merged away
    if ('layers' in args) assert.deepEqual(model.parameter('transformer.h.0.mlp.c_fc.weight').f32, frozen);
  }
});

test('sequential requests run one after another; early stopping ends at the holdout level', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  const r = await unlearn({
    model,
    tokenizer,
    task,
    method: 'ga',
    args: { ...quick, requests: 2 },
    progress: false,
  });
  assert.equal(r.requests.length, 2);
  const w = await tinyWorld();
  const e = await unlearn({
    ...w,
    method: 'ga',
    args: { epochs: 50, lr: 2e-3, batchSize: 4, earlyStop: true, evalEvery: 1 },
    progress: false,
  });
  assert.ok(e.requests[0].stoppedEarly && e.requests[0].steps < 50, `steps ${e.requests[0].steps}`);
});

test('bad arguments and an empty forget set are clear errors', async () => {
  const { task, tokenizer, model } = await tinyWorld();
  await assert.rejects(
    unlearn({ model, tokenizer, task, method: 'npo', args: { betta: 1 }, progress: false }),
    (e: Error) => e instanceof ConfigError && /betta/.test(e.message) && /valid keys: beta/.test(e.message),
  );
  await assert.rejects(
    unlearn({ model, tokenizer, task, method: 'nope', progress: false }),
    /unknown unlearning method "nope"/,
  );
  const empty = { ...task, splits: { ...task.splits, forget: emptySplit() } };
  await assert.rejects(unlearn({ model, tokenizer, task: empty, method: 'ga', progress: false }), DataError);
});
