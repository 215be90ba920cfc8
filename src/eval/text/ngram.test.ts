/**
 * n-grams, OVERLAP_n and EL_n (Jang et al.) on hand cases, including repeats, short generations, both
 * denominators and the degenerate inputs. Tolerance: exact (sums of a few simple fractions are checked
 * against the same fractions in the same order, or with 1e-15 where the order differs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ShapeError } from '../../errors.ts';
import { extractionLikelihood, ngramOverlap, ngrams } from './ngram.ts';

test('ngrams: contiguous, in order, repeats kept', () => {
  assert.deepEqual(ngrams([1, 2, 3, 4], 2), [
    [1, 2],
    [2, 3],
    [3, 4],
  ]);
  assert.deepEqual(ngrams(['a', 'a', 'a'], 2), [
    ['a', 'a'],
    ['a', 'a'],
  ]);
  assert.deepEqual(ngrams([1, 2], 3), []);
  assert.throws(() => ngrams([1], 0), ConfigError);
});

test('ngramOverlap: fraction of the generated n-grams found in the reference', () => {
  // gen (1,2) (2,3) (3,4); ref (2,3) (3,4) (4,5) → 2 of 3.
  assert.equal(ngramOverlap([1, 2, 3, 4], [2, 3, 4, 5], 2), 2 / 3);
  assert.equal(ngramOverlap([1, 2, 3], [1, 2, 3], 3), 1);
  assert.equal(ngramOverlap([1, 2, 3], [3, 2, 1], 2), 0);
  // Repeats in the generation each count (the paper sums over the list ng(a)).
  assert.equal(ngramOverlap([7, 7, 7, 7], [7, 7, 1], 2), 1);
  assert.equal(ngramOverlap([7, 7, 1, 2], [7, 7, 1], 2), 2 / 3);
  // The authors' code divides by the reference's n-gram count instead.
  assert.equal(ngramOverlap([2, 3, 4], [2, 3, 4, 5, 6], 2, { denominator: 'reference' }), 2 / 4);
  assert.equal(ngramOverlap([2, 3, 4], [2, 3, 4, 5, 6], 2), 1);
  // Tokens keep their type: 1 and '1' differ; strings with separators do not collide.
  assert.equal(ngramOverlap([1, 2], ['1', '2'], 2), 0);
  assert.equal(ngramOverlap(['a,b', 'c'], ['a', 'b,c'], 2), 0);
  assert.equal(ngramOverlap(['the', 'cat'], ['the', 'cat', 'sat'], 2), 1);
});

test('ngramOverlap: a side without n-grams gives 0', () => {
  assert.equal(ngramOverlap([], [1, 2, 3], 2), 0);
  assert.equal(ngramOverlap([1], [1, 2, 3], 2), 0);
  assert.equal(ngramOverlap([1, 2, 3], [1], 2), 0);
  assert.equal(ngramOverlap([1, 2, 3], [1], 2, { denominator: 'reference' }), 0);
});

test('extractionLikelihood: mean over prefixes 1 … T − n of OVERLAP_n(g_p, x[p:])', () => {
  const x = [1, 2, 3, 4, 5, 6]; // T = 6, n = 2 → prefixes 1..4
  // Perfect memorisation: every generation is the true continuation.
  const perfect = [1, 2, 3, 4].map((p) => x.slice(p));
  assert.equal(extractionLikelihood(x, perfect, 2), 1);
  const gens = [
    [2, 3, 4], // p=1, true [2..6]: both generated bigrams occur → 2/2 (code form: 2/4)
    [3, 4, 5, 6], // p=2: exact → 1
    [], // p=3: stopped at once (EOS) → 0
    [6, 5], // p=4, true [5, 6]: (6,5) not there → 0
  ];
  assert.equal(extractionLikelihood(x, gens, 2), (1 + 1 + 0 + 0) / 4);
  assert.equal(extractionLikelihood(x, gens, 2, { denominator: 'reference' }), (0.5 + 1 + 0 + 0) / 4);
  // n = 1: unigram presence.
  const x1 = [5, 6, 7];
  assert.ok(Math.abs(extractionLikelihood(x1, [[6, 9], [7]], 1) - (0.5 + 1) / 2) <= 1e-15);
});

test('extractionLikelihood: T ≤ n is NaN; a wrong number of generations is a ShapeError', () => {
  assert.ok(Number.isNaN(extractionLikelihood([1, 2], [], 2)));
  assert.ok(Number.isNaN(extractionLikelihood([], [], 1)));
  assert.throws(() => extractionLikelihood([1, 2, 3, 4], [[2]], 2), ShapeError);
  assert.throws(() => extractionLikelihood([1, 2, 3], [[2]], 0), ConfigError);
});
