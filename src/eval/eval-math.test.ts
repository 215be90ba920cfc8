/**
 * The scoring arithmetic on hand-built numbers whose answers are known: truth-ratio orientation
 * and aggregations, normalised probability, the MIA scores (Min-K%, Min-K%++ on a hand-built
 * distribution, zlib, reference), PrivLeak's sign, EM/ES/MA including the empty span, EL
 * position sampling, and the closeness summary. Tolerances: 1e-12 for closed forms unless stated.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { closeness, closenessEntry } from './closeness.ts';
import {
  elPositions,
  exactMemorisation,
  extractionStrength,
  memorisationAccuracy,
} from './metrics/memorisation.ts';
import {
  lossScore,
  minKPlusPlusScore,
  minKScore,
  privLeak,
  referenceScore,
  zlibLength,
  zlibScore,
} from './mia-scores.ts';
import { logProbMoments } from './scoring.ts';
import {
  finiteMean,
  forgetTruthStat,
  normalisedProbability,
  probability,
  retainTruthStat,
  truthRatio,
} from './truth-ratio.ts';

const close = (a: number, b: number, tol = 1e-12, msg = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} vs ${b} (tol ${tol})`);

describe('truth ratio', () => {
  test('R = GM of perturbed P̃ over the correct P̃; a model preferring the truth has R < 1', () => {
    // Correct answer at ℓ̄ = 0.5, perturbed at ℓ̄ = 2 and 3: R = exp(0.5 − 2.5) = e^−2.
    const r = truthRatio(0.5, [2, 3]);
    close(r, Math.exp(-2));
    const gm = Math.sqrt(probability(2) * probability(3));
    close(r, gm / probability(0.5), 1e-15);
    // Retain-side: 1 − R, high for a model that knows; forget-side: min(R, 1/R), low for one that knows.
    close(retainTruthStat(r), 1 - Math.exp(-2));
    close(forgetTruthStat(r), Math.exp(-2));
  });

  test('a model preferring the wrong answers gets retain stat 0 and the same forget stat', () => {
    const r = truthRatio(3, [1, 1]); // R = e^2
    close(r, Math.exp(2));
    assert.equal(retainTruthStat(r), 0);
    close(forgetTruthStat(r), Math.exp(-2));
  });

  test('an indifferent model (equal NLLs) has R = 1: forget stat 1, retain stat 0', () => {
    const r = truthRatio(1.7, [1.7, 1.7, 1.7]);
    close(r, 1);
    close(forgetTruthStat(r), 1);
    close(retainTruthStat(r), 0);
  });

  test('no perturbed answers or NaN input give NaN; finiteMean leaves NaN out and counts it', () => {
    assert.ok(Number.isNaN(truthRatio(1, [])));
    assert.ok(Number.isNaN(truthRatio(Number.NaN, [1])));
    assert.deepEqual(finiteMean([1, Number.NaN, 3]), { mean: 2, used: 2, excluded: 1 });
    assert.ok(Number.isNaN(finiteMean([]).mean));
  });

  test('normalised probability is the answer’s share of P̃ over all options (log-space stable)', () => {
    close(normalisedProbability(1, [2, 3]), Math.exp(-1) / (Math.exp(-1) + Math.exp(-2) + Math.exp(-3)));
    close(normalisedProbability(1000, [1000, 1000, 1000]), 0.25); // exp(−1000) underflows naively
    close(normalisedProbability(0.1, []), 1);
  });
});

describe('membership-inference scores', () => {
  const lp = [-0.1, -2, -0.5, -4, -1];

  test('LOSS is the mean NLL; empty is NaN', () => {
    close(lossScore(lp), 7.6 / 5);
    assert.ok(Number.isNaN(lossScore([])));
  });

  test('Min-K% averages the lowest ⌊k·T⌋ log-probs (at least one), negated', () => {
    close(minKScore(lp, 0.4), (4 + 2) / 2); // ⌊0.4·5⌋ = 2 lowest: −4, −2
    close(minKScore(lp, 0.1), 4); // ⌊0.5⌋ = 0 → at least 1
    close(minKScore(lp, 1), lossScore(lp));
    assert.ok(Number.isNaN(minKScore([], 0.4)));
  });

  test('Min-K%++ on a hand-built distribution: z-scores against the vocabulary mean/std', () => {
    // Position 0: p = (0.5, 0.25, 0.25), true token 0. Position 1: the same distribution, true token 2.
    const probs = [0.5, 0.25, 0.25];
    const logs = probs.map(Math.log);
    const mu = probs.reduce((s, p, i) => s + p * logs[i], 0);
    const sd = Math.sqrt(probs.reduce((s, p, i) => s + p * (logs[i] - mu) ** 2, 0));
    // logProbMoments gives the same moments from raw logits (any shift).
    const [m, s] = logProbMoments(Float32Array.from(logs.map((x) => x + 3)));
    close(m, mu, 1e-6, 'mean');
    close(s, sd, 1e-6, 'std');
    const z0 = (logs[0] - mu) / sd;
    const z1 = (logs[2] - mu) / sd;
    close(minKPlusPlusScore([logs[0], logs[2]], [mu, mu], [sd, sd], 0.5), -Math.min(z0, z1));
    close(minKPlusPlusScore([logs[0], logs[2]], [mu, mu], [sd, sd], 1), -(z0 + z1) / 2);
    // A uniform distribution has σ = 0: every token is exactly average, z = 0.
    close(minKPlusPlusScore([Math.log(1 / 3)], [Math.log(1 / 3)], [0], 0.4), 0);
  });

  test('zlib divides the mean NLL by the deflated byte length', () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    assert.equal(zlibLength(text), deflateSync(Buffer.from(text)).length);
    close(zlibScore(lp, text), lossScore(lp) / deflateSync(Buffer.from(text)).length);
  });

  test('reference score: a member is easier for the model than for the reference (negative)', () => {
    assert.ok(referenceScore(0.2, 2.5) < 0);
    close(referenceScore(1.5, 1.5), 0);
  });

  test('PrivLeak sign: remembering is negative, over-forgetting positive, the oracle 0', () => {
    // Attack AUCs (1 = forget items all recognised as members).
    close(privLeak(0.5, 0.5), 0);
    close(privLeak(1, 0.5), -100); // target-like: MUSE AUC 0 vs 0.5
    close(privLeak(0.75, 0.5), -50);
    close(privLeak(0.25, 0.5), 50); // forget looks less familiar than unseen data
    assert.ok(Number.isNaN(privLeak(0.5, 1)));
  });
});

describe('memorisation', () => {
  test('EM is the share of argmax hits; ES = 1 − k*/|y| with k* the start of the all-hit suffix', () => {
    assert.equal(exactMemorisation([1, 0, 1, 1]), 0.75);
    assert.equal(extractionStrength([1, 0, 1, 1]), 0.5); // k* = 2
    assert.equal(extractionStrength([1, 1, 1, 1]), 1); // k* = 0
    assert.equal(extractionStrength([1, 1, 1, 0]), 0); // k* = |y|
    assert.equal(extractionStrength([0, 1, 1, 1]), 0.75);
    assert.equal(memorisationAccuracy([0, 0, 1, 1]), 0.5);
  });

  test('an empty answer is degenerate: EM, ES and MA are NaN', () => {
    assert.ok(Number.isNaN(exactMemorisation([])));
    assert.ok(Number.isNaN(extractionStrength([])));
    assert.ok(Number.isNaN(memorisationAccuracy(new Uint8Array(0))));
  });

  test('EL positions: every valid t when few, else a seeded sorted sample; none when too short', () => {
    assert.deepEqual(elPositions('a', 3, 15, 10, 8, 0), [3, 4, 5]);
    const many = elPositions('a', 1, 200, 10, 8, 0);
    assert.equal(many.length, 8);
    assert.deepEqual(
      many,
      [...many].sort((x, y) => x - y),
    );
    assert.ok(many.every((t) => t >= 1 && t <= 190));
    assert.deepEqual(elPositions('a', 1, 200, 10, 8, 0), many, 'same id and seed, same positions');
    assert.notDeepEqual(elPositions('b', 1, 200, 10, 8, 0), many, 'another item, other positions');
    assert.deepEqual(elPositions('a', 5, 14, 10, 8, 0), []);
  });
});

describe('closeness to the oracle', () => {
  test('gap left is |u − o| / |t − o|: 0 at the oracle, 1 at the target, above 1 past it', () => {
    close(closenessEntry({ unlearned: 0.5, oracle: 0.5, target: 1 }).gapLeft!, 0);
    close(closenessEntry({ unlearned: 1, oracle: 0.5, target: 1 }).gapLeft!, 1, 1e-8);
    close(closenessEntry({ unlearned: 0.75, oracle: 0.5, target: 1 }).gapLeft!, 0.5, 1e-8);
    close(closenessEntry({ unlearned: 0, oracle: 0.5, target: 1 }).gapLeft!, 1, 1e-8); // overshoot by 0.5
    close(closenessEntry({ unlearned: -0.5, oracle: 0.5, target: 1 }).gapLeft!, 2, 1e-8);
  });

  test('no gap or a missing value leaves the metric out with a reason; mean and median over the rest', () => {
    const c = closeness({
      a: { unlearned: 0.75, oracle: 0.5, target: 1 },
      b: { unlearned: 0.9, oracle: 0.5, target: 1 },
      flat: { unlearned: 0.2, oracle: 0.9, target: 0.9001 },
      none: { unlearned: 0.2, oracle: null, target: 0.9 },
    });
    assert.equal(c.included, 2);
    close(c.mean!, 0.65, 1e-8);
    close(c.median!, 0.65, 1e-8);
    assert.equal(c.metrics.flat.included, false);
    assert.match(c.metrics.flat.reason!, /agree/);
    close(c.metrics.flat.distance!, 0.7, 1e-12);
    assert.match(c.metrics.none.reason!, /no value for oracle/);
    assert.equal(closeness({}).mean, null);
  });
});
