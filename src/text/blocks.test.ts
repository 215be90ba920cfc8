/**
 * Long documents: a document of 10 contexts contributes every token to training (each scored
 * exactly once, with left context), QA cuts are announced, and block scoring joins per-token
 * log-probs so document metrics cover the whole document.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptySplit } from '../data/task.ts';
import { buildModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import { collate } from './batch.ts';
import { scoreInBlocks, spanBlocks } from './blocks.ts';
import { splitExamples } from './format.ts';
import { scoreSequences } from './score.ts';
import { trainByteLevelBpe } from './tokenizer/train-bpe.ts';

/** Which document positions each block scores, and the left context each scored token has. */
function coverage(n: number, context: number, stride?: number) {
  const ids = Array.from({ length: n }, (_, i) => i);
  const blocks = spanBlocks({ ids, start: 1 }, context, stride);
  const scored: number[] = [];
  let minLeft = Infinity;
  for (const [k, b] of blocks.entries()) {
    assert.ok(b.ids.length <= context && b.start >= 1);
    for (let j = b.start; j < b.ids.length; j++) {
      scored.push(b.ids[j]);
      if (k > 0) minLeft = Math.min(minLeft, j);
    }
  }
  return { blocks, scored, minLeft };
}

test('every token of a long document is scored exactly once, with left context', () => {
  for (const [n, context, stride] of [
    [640, 64, undefined],
    [641, 64, 16],
    [129, 64, 63],
    [65, 64, 1],
  ] as const) {
    const { scored, minLeft } = coverage(n, context, stride);
    assert.deepEqual(
      scored,
      Array.from({ length: n - 1 }, (_, i) => i + 1),
      `n=${n}`,
    );
    assert.ok(minLeft >= context - (stride ?? context / 2), `n=${n}: left context ${minLeft}`);
  }
  assert.throws(() => spanBlocks({ ids: [1, 2, 3], start: 1 }, 2, 2), /stride/);
});

test('a document of 10 blocks contributes all its tokens to training', () => {
  const words = Array.from({ length: 400 }, (_, i) => `w${i % 37}x${i % 11}`).join(' ');
  const tok = trainByteLevelBpe([words], { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
  const n = tok.encode(words, { addSpecialTokens: true }).length + 1; // + EOS
  const context = Math.ceil(n / 10);
  const split = { ...emptySplit(), text: [{ id: 'doc-1', text: words }] };
  const examples = splitExamples(tok, split, context);
  assert.ok(examples.length >= 10, `${examples.length} blocks`);
  const batch = collate(
    examples,
    examples.map((_, i) => i),
  );
  assert.equal(batch.tokens, n - 1, 'every token after the first is a training target');
  assert.ok(examples.every((e) => e.ids.length <= context));
});

test('a QA example longer than the context is cut with a warning saying how much', () => {
  const tok = trainByteLevelBpe(['Question: a b c d e f g h\nAnswer: yes'], {
    vocabSize: 280,
    specialTokens: ['<|endoftext|>'],
  });
  const warnings: string[] = [];
  const split = {
    ...emptySplit(),
    qa: [{ id: 'q1', question: 'a b c d e f g h '.repeat(4), answer: 'yes' }],
  };
  const [e] = splitExamples(tok, split, 12, { warn: (m) => warnings.push(m) });
  assert.equal(e.ids.length, 12);
  assert.match(warnings.join('\n'), /1 QA example\(s\) .* lost \d+ token\(s\)/);
});

test('block scoring joins per-token log-probs: a document NLL covers every token', () => {
  const model = buildModel(
    { model_type: 'gpt2', vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 },
    new Rng(3),
  );
  const rng = new Rng(5);
  const long = { ids: Array.from({ length: 70 }, () => rng.int(0, 50)), start: 1 };
  const short = { ids: long.ids.slice(0, 10), start: 3 };
  const [whole, small] = scoreInBlocks([long, short], 16, (spans) => scoreSequences(model, spans));
  assert.equal(whole.logProbs.length, 69);
  assert.equal(whole.tokens, 69);
  const blocks = spanBlocks(long, 16).map((b) => scoreSequences(model, [b])[0]);
  const expected = blocks.flatMap((b) => [...b.logProbs]);
  assert.deepEqual([...whole.logProbs], expected);
  assert.ok(Math.abs(whole.nll - blocks.reduce((s, b) => s + b.nll, 0)) < 1e-3);
  // The first block's tokens are scored exactly as the first 16 tokens alone would be.
  const head = scoreSequences(model, [{ ids: long.ids.slice(0, 16), start: 1 }])[0];
  assert.deepEqual([...whole.logProbs.subarray(0, 15)], [...head.logProbs]);
  assert.deepEqual([...small.logProbs], [...scoreSequences(model, [short])[0].logProbs]);
});
