/**
 * Packed training rows: every example keeps exactly its own scored tokens wherever it lands in a
 * row, and a model trained on packed rows answers behind a few-shot prefix (about half its
 * context of other QA pairs) as well as without one — what ICUL and guardrail prefixes need.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tinyTask } from '../../test/helpers/unlearn-world.ts';
import { buildModel } from '../models/registry.ts';
import { IGNORE_INDEX, Rng } from '../tensor/index.ts';
import { collate } from '../text/batch.ts';
import { qaExample, splitExamples } from '../text/format.ts';
import { scoreSequences } from '../text/score.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { collatePacked, packedSource } from './batching.ts';
import { train } from './trainer.ts';

test('packed rows keep each example’s scored tokens and never exceed the context', () => {
  const examples = [
    { ids: [1, 2, 3, 4], start: 2 },
    { ids: [5, 6, 7], start: 1 },
    { ids: [8, 9, 10, 11, 12], start: 3 },
  ];
  const b = collatePacked(examples, [0, 1, 2], 8);
  assert.deepEqual(b.inputs.shape, [2, 6]);
  // Row 0: [1 2 3 4 5 6 7] — targets 3, 4 (example 0 from start 2), then 6, 7 (example 1 from 1).
  const t = [...b.targets.i32];
  const I = IGNORE_INDEX;
  assert.deepEqual(t.slice(0, 6), [I, 3, 4, I, 6, 7]);
  assert.deepEqual(t.slice(6, 12), [I, I, 11, 12, I, I]);
  const separate = examples.reduce((s, _, i) => s + collate(examples, [i]).tokens, 0);
  assert.equal(b.tokens, separate);
  assert.throws(() => collatePacked(examples, [2], 4), /more than the context 4/);
  const src = packedSource(examples, 2, 8, 0);
  assert.equal(src.batchesPerEpoch, 2);
  assert.deepEqual([...src.batch(3, 1).targets.i32], [...src.batch(3, 1).targets.i32], 'deterministic');
});

test('trained on packed rows, retain answers keep ≥ 90% of their probability behind a few-shot prefix', async () => {
  const task = tinyTask();
  const texts = Object.values(task.splits).flatMap((s) => s.qa.flatMap((q) => [q.question, q.answer]));
  const tok = trainByteLevelBpe(texts, { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
  const context = 128;
  const model = buildModel(
    {
      model_type: 'gpt2',
      vocab_size: tok.vocabSize,
      n_positions: context,
      n_embd: 48,
      n_layer: 2,
      n_head: 2,
      eos_token_id: tok.tokenToId('<|endoftext|>'),
    },
    new Rng(0),
  );
  const examples = [
    ...splitExamples(tok, task.splits.forget, context),
    ...splitExamples(tok, task.splits.retain, context),
  ];
  await train(model, packedSource(examples, 12, context, 0), {
    steps: 300,
    batchSize: 12,
    lr: 1e-2,
    schedule: 'constant',
    progress: false,
  });
  const prefix = task.splits.forget.qa.slice(0, 2).flatMap((q) => qaExample(tok, q.question, q.answer).ids);
  assert.ok(prefix.length >= context / 2 - 8 && prefix.length <= context / 2 + 8, `prefix ${prefix.length}`);
  const probability = (head: number[]) => {
    const scored = scoreSequences(
      model,
      task.splits.retain.qa.map((q) => {
        const e = qaExample(tok, q.question, q.answer);
        return { ids: [...head, ...e.ids], start: head.length + e.start };
      }),
    );
    return scored.reduce((s, r) => s + Math.exp(-r.nll / r.tokens), 0) / scored.length;
  };
  const plain = probability([]);
  const behind = probability(prefix);
  assert.ok(plain > 0.9, `retain answer probability ${plain}`);
  assert.ok(behind >= 0.9 * plain, `behind a ${prefix.length}-token prefix: ${behind} vs ${plain}`);
});
