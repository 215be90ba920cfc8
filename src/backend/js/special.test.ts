/** Tests for erf/erfc/Φ against tabulated values (computed with 30-digit arithmetic). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { erf, erfc, normalCdf } from './special.ts';

test('erf: absolute error < 1e-13 on tabulated values, odd symmetry', () => {
  const table: [number, number][] = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [2.9, 0.9999589021219005],
    [3.5, 0.9999992569016276],
    [6, 1],
  ];
  for (const [x, v] of table) {
    assert.ok(Math.abs(erf(x) - v) < 1e-13, `erf(${x}) = ${erf(x)}, expected ${v}`);
    assert.ok(Math.abs(erf(-x) + v) < 1e-13, `erf(${-x})`);
  }
});

test('erfc: relative error < 1e-11 including the far tail; erfc(−x) = 2 − erfc(x)', () => {
  const table: [number, number][] = [
    [0.5, 0.4795001221869535],
    [2.5, 4.06952017444959e-4],
    [3, 2.209049699858544e-5],
    [4, 1.541725790028002e-8],
    [5, 1.537459794428035e-12],
    [10, 2.088487583762545e-45],
    [26, 5.663192408856143e-296],
  ];
  for (const [x, v] of table) {
    assert.ok(Math.abs(erfc(x) - v) <= 1e-11 * v, `erfc(${x}) = ${erfc(x)}, expected ${v}`);
    assert.ok(Math.abs(erfc(-x) - (2 - v)) < 1e-15, `erfc(${-x})`);
  }
  assert.equal(erfc(Number.POSITIVE_INFINITY), 0);
  assert.ok(Number.isNaN(erf(Number.NaN)) && Number.isNaN(erfc(Number.NaN)));
});

test('normalCdf: Φ(0) = 0.5, Φ(−10) to 1e-11 relative', () => {
  assert.equal(normalCdf(0), 0.5);
  const v = 7.619853024160527e-24;
  assert.ok(Math.abs(normalCdf(-10) - v) <= 1e-11 * v);
});
