/**
 * ROUGE-L as rouge_score computes it, on hand-worked cases: identical and disjoint texts, empty
 * sides, repeated words, punctuation/case/digits/non-ASCII in the tokenizer, and TOFU's stemmed recall
 * vs MUSE's unstemmed F1. Tolerance: 1e-15 absolute (one or two divisions of small integers).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fMeasure,
  lcsLength,
  museRougeL,
  type RougeScore,
  rougeL,
  rougeTokenize,
  tofuRougeL,
} from './rouge.ts';

function near(actual: RougeScore, expected: RougeScore, what: string): void {
  for (const k of ['precision', 'recall', 'f1'] as const) {
    assert.ok(Math.abs(actual[k] - expected[k]) <= 1e-15, `${what} ${k}: ${actual[k]} vs ${expected[k]}`);
  }
}

test('tokenizer: lowercase, non-[a-z0-9] runs → space, split, drop empties', () => {
  assert.deepEqual(rougeTokenize("Hello, World! It's 2024."), ['hello', 'world', 'it', 's', '2024']);
  assert.deepEqual(rougeTokenize('  COVID-19\tcases\n'), ['covid', '19', 'cases']);
  assert.deepEqual(rougeTokenize('café naïve'), ['caf', 'na', 've']); // accents are not [a-z]
  assert.deepEqual(rougeTokenize('!!! ...'), []);
  assert.deepEqual(rougeTokenize(''), []);
});

test('tokenizer with stemming: only tokens longer than 3 characters are stemmed', () => {
  // porterStem('was') would be 'wa', but 3-letter tokens are left alone; 'dies' (4) → 'die'.
  assert.deepEqual(rougeTokenize('Was running, dies; the books', { stem: true }), [
    'was',
    'run',
    'die',
    'the',
    'book',
  ]);
});

test('identical texts score 1; disjoint texts 0', () => {
  near(
    rougeL('The cat sat on the mat.', 'the cat sat on the mat'),
    { precision: 1, recall: 1, f1: 1 },
    'identical',
  );
  near(rougeL('alpha beta', 'gamma delta'), { precision: 0, recall: 0, f1: 0 }, 'disjoint');
});

test('an empty candidate or reference scores 0, not NaN', () => {
  const zero = { precision: 0, recall: 0, f1: 0 };
  near(rougeL('the cat', ''), zero, 'empty candidate');
  near(rougeL('', 'the cat'), zero, 'empty reference');
  near(rougeL('the cat', '?!'), zero, 'punctuation-only candidate');
  near(rougeL('', ''), zero, 'both empty');
});

test('repeated words: an LCS, each occurrence matched at most once', () => {
  // ref [the the the cat], cand [the cat the]: the longest common subsequence has length 2.
  near(rougeL('the the the cat', 'the cat the'), { precision: 2 / 3, recall: 2 / 4, f1: 4 / 7 }, 'repeats');
  assert.equal(lcsLength(['a', 'b', 'a', 'b'], ['b', 'a', 'b', 'a']), 3);
});

test('punctuation and case do not matter; split tokens do', () => {
  // ref [hello world it s 2024] (5), cand [hello world its 2024] (4): LCS hello world 2024 = 3.
  near(
    rougeL("Hello, World! It's 2024.", 'hello world its 2024'),
    { precision: 3 / 4, recall: 3 / 5, f1: 2 / 3 },
    'p&c',
  );
});

test('TOFU: recall with stemming; MUSE: F1 without', () => {
  const ref = 'The authors were writing books';
  const cand = 'the author wrote a book';
  // Unstemmed: only "the" is shared → 1/5 each way. Stemmed: the, author, book (writing → write,
  // wrote → wrote, were → were) → LCS 3.
  near(rougeL(ref, cand), { precision: 0.2, recall: 0.2, f1: 0.2 }, 'unstemmed');
  near(rougeL(ref, cand, { stem: true }), { precision: 0.6, recall: 0.6, f1: 0.6 }, 'stemmed');
  assert.equal(tofuRougeL(ref, cand), 0.6);
  assert.ok(Math.abs(museRougeL(ref, cand) - 0.2) <= 1e-15); // 2·0.2·0.2/0.4 rounds to 0.20000000000000004
  // Recall and precision are not symmetric: a long candidate that contains the reference has recall 1.
  const long = rougeL('paris is the capital', 'well, paris is indeed the capital of france');
  near(long, { precision: 4 / 8, recall: 1, f1: fMeasure(0.5, 1) }, 'containment');
  assert.equal(tofuRougeL('paris is the capital', 'well, paris is indeed the capital of france'), 1);
});

test('fMeasure is 0 when precision + recall = 0', () => {
  assert.equal(fMeasure(0, 0), 0);
  assert.equal(fMeasure(1, 0.5), 2 / 3);
});
