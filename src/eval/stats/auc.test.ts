/**
 * ROC AUC against scipy's Mann–Whitney U / (n·m) (test/fixtures/stats/auc.json), the ROC curve and
 * TPR-at-FPR on hand cases, and the degenerate inputs. Tolerance: AUC 1e-12 absolute (both sides are
 * exact half-integer counts divided once; seen: identical); curve points and hand values exact.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, ShapeError } from '../../errors.ts';
import {
  aucFromCurve,
  type Label,
  rocAuc,
  rocAucLabeled,
  rocCurve,
  tprAtFpr,
  tprAtFprFromCurve,
} from './auc.ts';

const fixture = JSON.parse(
  readFileSync(new URL('../../../test/fixtures/stats/auc.json', import.meta.url), 'utf8'),
) as { cases: { name: string; positives: number[]; negatives: number[]; auc: number }[] };

const TOL = 1e-12;

function labeled(pos: number[], neg: number[]): { scores: number[]; labels: Label[] } {
  return { scores: [...pos, ...neg], labels: [...pos.map(() => 1 as const), ...neg.map(() => 0 as const)] };
}

for (const c of fixture.cases) {
  test(`rocAuc matches scipy mannwhitneyu U/(n·m): ${c.name}`, () => {
    const auc = rocAuc(c.positives, c.negatives);
    assert.ok(Math.abs(auc - c.auc) <= TOL, `${auc} vs ${c.auc}`);
    // The trapezoid under the full ROC curve is the same number (ties are diagonal segments).
    const { scores, labels } = labeled(c.positives, c.negatives);
    assert.ok(Math.abs(aucFromCurve(rocCurve(scores, labels)) - c.auc) <= TOL, 'trapezoid area');
    assert.ok(Math.abs(rocAucLabeled(scores, labels) - c.auc) <= TOL, 'labeled form');
  });
}

test('rocAuc: hand cases with ties (higher score = positive)', () => {
  // Pairs (p, n): 1 vs {2,2,0} → 1; 2 vs {2,2,0} → ½+½+1; 3 vs {2,2,0} → 3. Sum 6 of 9.
  assert.equal(rocAuc([1, 2, 3], [2, 2, 0]), 6 / 9);
  assert.equal(rocAuc([5], [5]), 0.5);
  assert.equal(rocAuc([2, 3], [0, 1]), 1);
  assert.equal(rocAuc([0, 1], [2, 3]), 0);
  assert.equal(rocAuc([Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY, 0]), 0.75);
});

test('rocAuc: no positives or no negatives or NaN → NaN', () => {
  assert.ok(Number.isNaN(rocAuc([], [1, 2])));
  assert.ok(Number.isNaN(rocAuc([1], [])));
  assert.ok(Number.isNaN(rocAuc([1, Number.NaN], [0])));
  assert.ok(Number.isNaN(rocAucLabeled([1, 2], [true, true])));
});

test('rocCurve: one point per distinct threshold, from (0,0) to (1,1)', () => {
  const scores = [0.9, 0.8, 0.8, 0.3, 0.1];
  const labels: Label[] = [true, true, false, true, false];
  const c = rocCurve(scores, labels);
  assert.deepEqual(c.thresholds, [Number.POSITIVE_INFINITY, 0.9, 0.8, 0.3, 0.1]);
  assert.deepEqual(c.tpr, [0, 1 / 3, 2 / 3, 1, 1]);
  assert.deepEqual(c.fpr, [0, 0, 0.5, 0.5, 1]);
  // AUC by pairs: 0.9 beats both; 0.8 ties 0.8 (½) and beats 0.1; 0.3 beats 0.1 → (2 + 1.5 + 1)/6.
  assert.equal(aucFromCurve(c), 4.5 / 6);
  assert.equal(rocAucLabeled(scores, labels), 4.5 / 6);
  assert.deepEqual(rocCurve([1, 2], [1, 1]), { fpr: [], tpr: [], thresholds: [] });
  assert.ok(Number.isNaN(aucFromCurve(rocCurve([1], [0]))));
});

test('tprAtFpr: largest TPR among points with FPR ≤ budget, no interpolation', () => {
  // 100 negatives at scores 0..99, 10 positives at 94.5..103.5: at FPR 0 (threshold > 99) 5 positives
  // pass; each negative admitted (FPR +1%) lets one more positive through, down to 94.5 at FPR 5%.
  const neg = Array.from({ length: 100 }, (_, i) => i);
  const pos = Array.from({ length: 10 }, (_, i) => 94.5 + i);
  const { scores, labels } = labeled(pos, neg);
  assert.equal(tprAtFpr(scores, labels, 0), 0.5);
  assert.equal(tprAtFpr(scores, labels, 0.01), 0.6);
  assert.equal(tprAtFpr(scores, labels, 0.05), 1);
  assert.equal(tprAtFpr(scores, labels, 0.001), 0.5);
  const curve = rocCurve(scores, labels);
  assert.equal(tprAtFprFromCurve(curve, 0.03), 0.8);
  assert.ok(Number.isNaN(tprAtFpr([1, 2], [0, 0], 0.01)));
  assert.throws(() => tprAtFpr(scores, labels, 1.5), ConfigError);
});

test('labels must match scores in length and be boolean or 0/1', () => {
  assert.throws(() => rocCurve([1, 2], [1]), ShapeError);
  assert.throws(() => rocCurve([1, 2], [1, 2 as Label]), ShapeError);
});
