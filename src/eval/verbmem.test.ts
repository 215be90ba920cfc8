/**
 * VerbMem as MUSE computes it (muse/metrics/verbmem.py): the ground truth is cut to the generation
 * budget in tokens before ROUGE-L F1. Golden values worked by hand on a word-level tokenizer
 * (one token per word); tolerance 1e-12.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verbmemScore } from './metrics/muse.ts';
import { museRougeL } from './text/index.ts';

/** One token per whitespace-separated word of `vocabText`. */
function wordTokenizer(vocabText: string) {
  const vocab = vocabText.split(/\s+/).filter(Boolean);
  return {
    encode: (text: string) =>
      text
        .split(/\s+/)
        .filter(Boolean)
        .map((w) => vocab.indexOf(w)),
    decode: (ids: number[]) => ids.map((i) => vocab[i]).join(' '),
  };
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-12, `${a} vs ${b}`);

test('VerbMem cuts the ground truth to the budget before ROUGE-L F1 (MUSE)', () => {
  const truth = 'the cat sat on the mat and then it slept';
  const tok = wordTokenizer(truth);
  // A perfect reproduction of the first 4 tokens: MUSE gives 1. Scoring the whole continuation
  // (10 words) would give P = 1, R = 0.4, F1 = 2·0.4/1.4 = 0.5714…
  close(verbmemScore(tok as never, truth, 'the cat sat on', 4), 1);
  close(museRougeL(truth, 'the cat sat on'), 0.8 / 1.4);
  // One word wrong: LCS 3 of 4 and 4: F1 = 0.75.
  close(verbmemScore(tok as never, truth, 'the cat ran on', 4), 0.75);
  // A continuation within the budget is used whole.
  close(verbmemScore(tok as never, 'the cat', 'the cat', 128), 1);
});
