/**
 * Tests for binary, where, copyStrided, gather and scatterAdd. All cases use values whose results
 * are exact in float32, so comparisons are exact unless a test says otherwise.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32, i32 } from '../../../test/helpers/kernel-checks.ts';
import { type BinaryOp, binaryCode } from '../backend.ts';
import { binary, where } from './elementwise.ts';
import { copyStrided, gather, scatterAdd } from './indexing.ts';

const nan = Number.NaN;
const Inf = Number.POSITIVE_INFINITY;

function bin(op: BinaryOp, a: number[], b: number[], shape: number[], as: number[], bs: number[]): number[] {
  const n = shape.reduce((p, s) => p * s, 1);
  const out = new Float32Array(n).fill(-7);
  binary(binaryCode(op), f32(a), f32(b), out, i32(shape), i32(as), i32(bs));
  return [...out];
}

test('binary: every op elementwise on (2, 3) (exact)', () => {
  const a = [1, -2, 3, 4, 0.5, 2];
  const b = [2, 2, -3, 4, 2, 3];
  const s = [2, 3];
  const st = [3, 1];
  assert.deepEqual(bin('add', a, b, s, st, st), [3, 0, 0, 8, 2.5, 5]);
  assert.deepEqual(bin('sub', a, b, s, st, st), [-1, -4, 6, 0, -1.5, -1]);
  assert.deepEqual(bin('mul', a, b, s, st, st), [2, -4, -9, 16, 1, 6]);
  assert.deepEqual(bin('div', a, b, s, st, st), [0.5, -1, -1, 1, 0.25, 2 / 3].map(Math.fround));
  assert.deepEqual(bin('maximum', a, b, s, st, st), [2, 2, 3, 4, 2, 3]);
  assert.deepEqual(bin('pow', a, b, s, st, st), [1, 4, 1 / 27, 256, 0.25, 8].map(Math.fround));
  assert.deepEqual(bin('eq', a, b, s, st, st), [0, 0, 0, 1, 0, 0]);
  assert.deepEqual(bin('gt', a, b, s, st, st), [0, 0, 1, 0, 0, 0]);
});

test('binary: broadcasting with size-1 dims, rank 0, and empty shapes (exact)', () => {
  // (2, 3) + (1, 3): b's row stride is 0.
  assert.deepEqual(
    bin('add', [1, 2, 3, 4, 5, 6], [10, 20, 30], [2, 3], [3, 1], [0, 1]),
    [11, 22, 33, 14, 25, 36],
  );
  // (2, 3) − (2, 1): b's column stride is 0.
  assert.deepEqual(bin('sub', [1, 2, 3, 4, 5, 6], [1, 4], [2, 3], [3, 1], [1, 0]), [0, 1, 2, 0, 1, 2]);
  // (2, 1) · (1, 3): an outer product, both broadcast.
  assert.deepEqual(bin('mul', [2, 3], [1, 10, 100], [2, 3], [1, 0], [0, 1]), [2, 20, 200, 3, 30, 300]);
  // (2, 1, 2) / scalar over a rank-3 output.
  assert.deepEqual(bin('div', [2, 4, 6, 8], [2], [2, 1, 2], [2, 2, 1], [0, 0, 0]), [1, 2, 3, 4]);
  assert.deepEqual(bin('add', [1.5], [2], [], [], []), [3.5]);
  assert.deepEqual(bin('add', [], [], [0, 3], [3, 1], [3, 1]), []);
});

test('binary: in place (out === a) accumulate', () => {
  const a = f32([1, 2, 3, 4]);
  binary(binaryCode('add'), a, f32([10, 20]), a, i32([2, 2]), i32([2, 1]), i32([0, 1]));
  assert.deepEqual([...a], [11, 22, 13, 24]);
});

test('binary: NaN propagation and IEEE pow edge cases (exact)', () => {
  const s = [4];
  const st = [1];
  const r = bin('maximum', [nan, 1, nan, -Inf], [1, nan, nan, -Inf], s, st, st);
  assert.ok(Number.isNaN(r[0]) && Number.isNaN(r[1]) && Number.isNaN(r[2]));
  assert.equal(r[3], -Inf);
  assert.deepEqual(bin('eq', [nan, 1], [nan, 1], [2], st, st), [0, 1]);
  assert.deepEqual(bin('gt', [nan, 2], [1, nan], [2], st, st), [0, 0]);
  assert.ok(Number.isNaN(bin('add', [nan], [1], [1], st, st)[0]));
  // pow(1, y) = 1 and pow(x, 0) = 1 even for NaN; pow(−1, ±∞) = 1; pow(−8, 1/3) = NaN.
  const p = bin('pow', [1, nan, -1, -8, 0], [nan, 0, Inf, 1 / 3, -1], [5], st, st);
  assert.deepEqual(p.slice(0, 3), [1, 1, 1]);
  assert.ok(Number.isNaN(p[3]));
  assert.equal(p[4], Inf);
});

test('where: broadcast condition, a and scalar b; NaN condition selects a (exact)', () => {
  const out = new Float32Array(6);
  const cond = f32([1, 0]); // (2, 1)
  const a = f32([1, 2, 3, 4, 5, 6]); // (2, 3)
  const b = f32([-1]); // scalar
  where(cond, a, b, out, i32([2, 3]), i32([1, 0]), i32([3, 1]), i32([0, 0]));
  assert.deepEqual([...out], [1, 2, 3, -1, -1, -1]);
  const o2 = new Float32Array(3);
  where(f32([nan, 0, -0]), f32([7, 7, 7]), f32([8, 8, 8]), o2, i32([3]), i32([1]), i32([1]), i32([1]));
  assert.deepEqual([...o2], [7, 8, 8]);
});

test('copyStrided: transpose of a 2×3, a slice, its accumulating backward, broadcast, concat (exact)', () => {
  const x = f32([1, 2, 3, 4, 5, 6]); // (2, 3)
  const t = new Float32Array(6);
  // Output (3, 2) contiguous; element (i, j) reads x[j*3 + i].
  copyStrided(x, 0, i32([1, 3]), t, 0, i32([2, 1]), i32([3, 2]), false);
  assert.deepEqual([...t], [1, 4, 2, 5, 3, 6]);

  const m = f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]); // (3, 4)
  const s = new Float32Array(4);
  // m[1:3, 1:3]: offset 1*4 + 1.
  copyStrided(m, 5, i32([4, 1]), s, 0, i32([2, 1]), i32([2, 2]), false);
  assert.deepEqual([...s], [5, 6, 9, 10]);
  const g = new Float32Array(12).fill(1);
  copyStrided(s, 0, i32([2, 1]), g, 5, i32([4, 1]), i32([2, 2]), true);
  assert.deepEqual([...g], [1, 1, 1, 1, 1, 6, 7, 1, 1, 10, 11, 1]);

  const e = new Float32Array(6);
  copyStrided(f32([7, 8, 9]), 0, i32([0, 1]), e, 0, i32([3, 1]), i32([2, 3]), false);
  assert.deepEqual([...e], [7, 8, 9, 7, 8, 9]);

  // concat along the last axis: (2, 1) and (2, 2) into (2, 3).
  const c = new Float32Array(6);
  copyStrided(f32([1, 4]), 0, i32([1, 1]), c, 0, i32([3, 1]), i32([2, 1]), false);
  copyStrided(f32([2, 3, 5, 6]), 0, i32([2, 1]), c, 1, i32([3, 1]), i32([2, 2]), false);
  assert.deepEqual([...c], [1, 2, 3, 4, 5, 6]);

  const untouched = f32([5]);
  copyStrided(x, 0, i32([3, 1]), untouched, 0, i32([3, 1]), i32([0, 3]), false);
  assert.deepEqual([...untouched], [5]);
});

test('gather / scatterAdd: repeated indices, zero rows (exact)', () => {
  const table = f32([0, 1, 10, 11, 20, 21]); // 3 rows of 2
  const idx = i32([2, 0, 2]);
  const out = new Float32Array(6);
  gather(table, idx, out, 2);
  assert.deepEqual([...out], [20, 21, 0, 1, 20, 21]);

  const dst = f32([1, 1, 1, 1, 1, 1]);
  scatterAdd(f32([1, 2, 3, 4, 5, 6]), idx, dst, 2);
  assert.deepEqual([...dst], [4, 5, 1, 1, 7, 9]);

  gather(table, i32([]), new Float32Array(0), 2);
  scatterAdd(new Float32Array(0), i32([]), dst, 2);
  assert.deepEqual([...dst], [4, 5, 1, 1, 7, 9]);
});
