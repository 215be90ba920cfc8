/** Tests for rope: hand case, position wrap-around (r % T), inverse, and the backward identity. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, dot, f32, randF32, rng } from '../../../test/helpers/kernel-checks.ts';
import { rope } from './rope.ts';

// T = 2, d = 4: position 0 is the identity; position 1 rotates pair 0 by 90° and pair 1 by atan2(0.8, 0.6).
const COS = f32([1, 1, 0, 0.6]);
const SIN = f32([0, 0, 1, 0.8]);

test('rope: hand-computed rows, rows wrap to position r % T, in place (atol 1e-6)', () => {
  const x = f32([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]); // 4 rows
  const out = new Float32Array(16);
  rope(x, out, COS, SIN, 4, 2, 4, false);
  const tol = { atol: 1e-6, rtol: 0 };
  assertClose(out, [1, 2, 3, 4, -3, -2, 1, 4, 1, 2, 3, 4, -3, -2, 1, 4], tol, 'forward');
  rope(x, x, COS, SIN, 4, 2, 4, false);
  assertClose(x, out, { atol: 0, rtol: 0 }, 'in place');
});

test('rope: inverse undoes a unit rotation (atol 1e-6); backward is the transpose (rtol 1e-5)', () => {
  const rand = rng(6);
  const rows = 6;
  const T = 3;
  const d = 8;
  const ang = randF32(rand, (T * d) / 2, -3, 3);
  const cos = ang.map(Math.cos);
  const sin = ang.map(Math.sin);
  const x = randF32(rand, rows * d);
  const y = new Float32Array(rows * d);
  const back = new Float32Array(rows * d);
  rope(x, y, cos, sin, rows, T, d, false);
  rope(y, back, cos, sin, rows, T, d, true);
  assertClose(back, x, { atol: 1e-6, rtol: 0 }, 'round trip');
  // rope is linear, so its gradient is the transpose: <R x, g> = <x, Rᵀ g> for any tables.
  const c2 = randF32(rand, (T * d) / 2);
  const s2 = randF32(rand, (T * d) / 2);
  const g = randF32(rand, rows * d);
  rope(x, y, c2, s2, rows, T, d, false);
  rope(g, back, c2, s2, rows, T, d, true);
  const lhs = dot(y, g);
  const rhs = dot(x, back);
  assert.ok(Math.abs(lhs - rhs) <= 1e-5 * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
});

test('rope: 0 rows write nothing; NaN stays in its pair', () => {
  rope(new Float32Array(0), new Float32Array(0), COS, SIN, 0, 2, 4, false);
  const out = new Float32Array(4);
  rope(f32([Number.NaN, 2, 3, 4]), out, COS, SIN, 1, 2, 4, false);
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[2]));
  assert.deepEqual([out[1], out[3]], [2, 4]);
});
