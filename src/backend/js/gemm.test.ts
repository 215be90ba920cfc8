/** Tests for the reference GEMM. Small integer cases are exact (tolerance 0). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { f32 } from '../../../test/helpers/kernel-checks.ts';
import { matmul } from './gemm.ts';

// A (2×3) · B (3×2) = C (2×2).
const A = [1, 2, 3, 4, 5, 6];
const AT = [1, 4, 2, 5, 3, 6]; // A^T stored 3×2
const B = [7, 8, 9, 10, 11, 12];
const BT = [7, 9, 11, 8, 10, 12]; // B^T stored 2×3
const C = [58, 64, 139, 154];

test('matmul: 2×3 · 3×2 in every transpose form (exact)', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const c = new Float32Array(4).fill(Number.NaN);
    matmul(f32(ta ? AT : A), f32(tb ? BT : B), c, 1, 2, 2, 3, ta, tb, 0, 0, 0, false);
    assert.deepEqual([...c], C, `transA=${ta} transB=${tb}`);
  }
});

test('matmul: (3×2)·(2×3) gives a 3×3 (exact)', () => {
  // A^T (3×2) · A (2×3): op(A) = A^T via transA on the 2×3 array.
  const c = new Float32Array(9);
  matmul(f32(A), f32(A), c, 1, 3, 3, 2, true, false, 0, 0, 0, false);
  assert.deepEqual([...c], [17, 22, 27, 22, 29, 36, 27, 36, 45]);
});

test('matmul: batch with a shared B (stride 0), offsets and accumulate (exact)', () => {
  const a = f32([...A, ...A.map((x) => 2 * x)]);
  const c = new Float32Array(8).fill(1);
  matmul(a, f32(B), c, 2, 2, 2, 3, false, false, 6, 0, 4, true);
  assert.deepEqual([...c], [...C.map((x) => x + 1), ...C.map((x) => 2 * x + 1)]);
});

test('matmul: k = 0 zeroes C, or leaves it when accumulating; empty batch/rows write nothing', () => {
  const c = f32([5, 6, 7, 8]);
  matmul(new Float32Array(0), new Float32Array(0), c, 1, 2, 2, 0, false, false, 0, 0, 0, true);
  assert.deepEqual([...c], [5, 6, 7, 8]);
  matmul(new Float32Array(0), new Float32Array(0), c, 1, 2, 2, 0, false, false, 0, 0, 0, false);
  assert.deepEqual([...c], [0, 0, 0, 0]);
  const d = f32([9]);
  matmul(new Float32Array(0), f32(B), d, 1, 0, 2, 3, false, false, 0, 0, 0, false);
  matmul(f32(A), f32(B), d, 0, 2, 2, 3, false, false, 6, 6, 4, false);
  assert.deepEqual([...d], [9]);
});

test('matmul: NaN propagates into its row and column only', () => {
  const a = f32([Number.NaN, 2, 3, 4, 5, 6]);
  const c = new Float32Array(4);
  matmul(a, f32(B), c, 1, 2, 2, 3, false, false, 0, 0, 0, false);
  assert.ok(Number.isNaN(c[0]) && Number.isNaN(c[1]));
  assert.deepEqual([c[2], c[3]], [139, 154]);
});
