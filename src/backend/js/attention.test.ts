/**
 * Tests for attention / attentionBackward: against a naive composite written here (explicit score
 * matrix, −∞ for hidden keys, softmax, P·V), hand cases, and central differences for the backward.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, dot, f32, numericGrad, randF32, rng } from '../../../test/helpers/kernel-checks.ts';
import { attention, attentionBackward } from './attention.ts';

const NEG_INF = Number.NEGATIVE_INFINITY;

interface Cfg {
  groups: number;
  tq: number;
  tk: number;
  d: number;
  scale: number;
  causal: boolean;
  maskGroup: number;
  kvGroup: number;
}

/** The composite: for each head build S (tq × tk) in full, hide keys, softmax each row, O = P·V. */
function naive(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array | null, c: Cfg) {
  const out = new Float64Array(c.groups * c.tq * c.d);
  const lse = new Float64Array(c.groups * c.tq);
  for (let g = 0; g < c.groups; g++) {
    const kv = Math.floor(g / c.kvGroup);
    const mb = Math.floor(g / c.maskGroup);
    for (let i = 0; i < c.tq; i++) {
      const S: number[] = [];
      for (let j = 0; j < c.tk; j++) {
        let s = 0;
        for (let e = 0; e < c.d; e++) s += q[(g * c.tq + i) * c.d + e] * k[(kv * c.tk + j) * c.d + e];
        s *= c.scale;
        if (mask) s += mask[mb * c.tq * c.tk + i * c.tk + j];
        if (c.causal && j > i + c.tk - c.tq) s = NEG_INF;
        S.push(s);
      }
      const mx = Math.max(...S);
      const row = g * c.tq + i;
      if (mx === NEG_INF) {
        lse[row] = NEG_INF; // out stays 0
        continue;
      }
      const P = S.map((s) => Math.exp(s - mx));
      const Z = P.reduce((a, b) => a + b, 0);
      lse[row] = mx + Math.log(Z);
      for (let e = 0; e < c.d; e++) {
        let o = 0;
        for (let j = 0; j < c.tk; j++) o += (P[j] / Z) * v[(kv * c.tk + j) * c.d + e];
        out[row * c.d + e] = o;
      }
    }
  }
  return { out, lse };
}

function setup(c: Cfg, seed: number, withMask: boolean) {
  const rand = rng(seed);
  const q = randF32(rand, c.groups * c.tq * c.d, -1.5, 1.5);
  const nkv = c.groups / c.kvGroup;
  const k = randF32(rand, nkv * c.tk * c.d, -1.5, 1.5);
  const v = randF32(rand, nkv * c.tk * c.d);
  const mask = withMask ? randF32(rand, (c.groups / c.maskGroup) * c.tq * c.tk, -1, 1) : null;
  return { q, k, v, mask };
}

function run(q: Float32Array, k: Float32Array, v: Float32Array, mask: Float32Array | null, c: Cfg) {
  const out = new Float32Array(c.groups * c.tq * c.d).fill(9);
  const lse = new Float32Array(c.groups * c.tq).fill(9);
  attention(q, k, v, mask, out, lse, c.groups, c.tq, c.tk, c.d, c.scale, c.causal, c.maskGroup, c.kvGroup);
  return { out, lse };
}

const GQA: Cfg = { groups: 4, tq: 3, tk: 5, d: 4, scale: 0.5, causal: true, maskGroup: 2, kvGroup: 2 };

test('attention: causal tq < tk with GQA and per-pair mask blocks vs the naive composite (atol/rtol 1e-6)', () => {
  for (const withMask of [false, true]) {
    const { q, k, v, mask } = setup(GQA, 7, withMask);
    const got = run(q, k, v, mask, GQA);
    const want = naive(q, k, v, mask, GQA);
    assertClose(got.out, want.out, { atol: 1e-6, rtol: 1e-6 }, `out mask=${withMask}`);
    assertClose(got.lse, want.lse, { atol: 1e-6, rtol: 1e-6 }, `lse mask=${withMask}`);
  }
  // Non-causal, no sharing (kvGroup = maskGroup = 1).
  const c: Cfg = { ...GQA, causal: false, kvGroup: 1, maskGroup: 1 };
  const { q, k, v, mask } = setup(c, 8, true);
  assertClose(
    run(q, k, v, mask, c).out,
    naive(q, k, v, mask, c).out,
    { atol: 1e-6, rtol: 1e-6 },
    'non-causal',
  );
});

test('attention: hand case — one query, two keys, causal offset tk − tq = 1 (atol 1e-7)', () => {
  // q = [1], k = [0, ln 3], v = [2, 6], scale 1: weights 1/4, 3/4 -> out = 5, lse = ln 4.
  const c: Cfg = { groups: 1, tq: 1, tk: 2, d: 1, scale: 1, causal: true, maskGroup: 1, kvGroup: 1 };
  const r = run(f32([1]), f32([0, Math.log(3)]), f32([2, 6]), null, c);
  assertClose(r.out, [5], { atol: 1e-6, rtol: 0 }, 'out');
  assertClose(r.lse, [Math.log(4)], { atol: 1e-7, rtol: 0 }, 'lse');
});

test('attention: fully masked rows give out 0 and lse −∞, and zero gradients (exact)', () => {
  // tq > tk with causal: query i sees keys j <= i − 2, so queries 0 and 1 see nothing.
  const c: Cfg = { groups: 2, tq: 4, tk: 2, d: 3, scale: 0.7, causal: true, maskGroup: 2, kvGroup: 1 };
  const { q, k, v } = setup(c, 9, false);
  // An additive −∞ mask over all of query 3's keys masks that row too.
  const mask = new Float32Array(c.tq * c.tk);
  mask[3 * c.tk] = NEG_INF;
  mask[3 * c.tk + 1] = NEG_INF;
  const r = run(q, k, v, mask, c);
  for (const g of [0, 1]) {
    for (const i of [0, 1, 3]) {
      const row = g * c.tq + i;
      assert.equal(r.lse[row], NEG_INF, `lse row ${row}`);
      assert.deepEqual([...r.out.subarray(row * c.d, row * c.d + c.d)], [0, 0, 0], `out row ${row}`);
    }
    assert.ok(Number.isFinite(r.lse[g * c.tq + 2]));
  }
  assertClose(r.out, naive(q, k, v, mask, c).out, { atol: 1e-6, rtol: 1e-6 }, 'vs naive');
  const dq = new Float32Array(q.length).fill(9);
  const dk = new Float32Array(k.length).fill(9);
  const dv = new Float32Array(v.length).fill(9);
  const dout = new Float32Array(r.out.length).fill(1);
  attentionBackward(q, k, v, mask, r.out, r.lse, dout, dq, dk, dv, 2, 4, 2, 3, 0.7, true, 2, 1);
  for (const g of [0, 1]) {
    for (const i of [0, 1, 3]) {
      const row = g * c.tq + i;
      assert.deepEqual([...dq.subarray(row * c.d, row * c.d + c.d)], [0, 0, 0]);
    }
  }
  assert.ok(dk.every(Number.isFinite) && dv.every(Number.isFinite));
});

test('attentionBackward vs central differences for q, k, v (GQA, causal, mask; h = 1e-2; atol 1e-3, rtol 1e-3)', () => {
  for (const c of [GQA, { ...GQA, tq: 5, causal: false, kvGroup: 4, maskGroup: 1 }]) {
    const { q, k, v, mask } = setup(c, 10, true);
    const dout = randF32(rng(11), c.groups * c.tq * c.d);
    const loss = () => dot(dout, run(q, k, v, mask, c).out);
    const { out, lse } = run(q, k, v, mask, c);
    const dq = new Float32Array(q.length).fill(9);
    const dk = new Float32Array(k.length).fill(9);
    const dv = new Float32Array(v.length).fill(9);
    const { groups, tq, tk, d, scale, causal, maskGroup, kvGroup } = c;
    attentionBackward(
      q,
      k,
      v,
      mask,
      out,
      lse,
      dout,
      dq,
      dk,
      dv,
      groups,
      tq,
      tk,
      d,
      scale,
      causal,
      maskGroup,
      kvGroup,
    );
    const tol = { atol: 1e-3, rtol: 1e-3 };
    assertClose(dq, numericGrad(q, loss), tol, 'dq');
    assertClose(dk, numericGrad(k, loss), tol, 'dk');
    assertClose(dv, numericGrad(v, loss), tol, 'dv');
  }
});

test('attention: empty (tq = 0, groups = 0) writes nothing; NaN in q poisons its row only', () => {
  const e = new Float32Array(0);
  attention(e, f32([1, 2]), f32([1, 2]), null, e, e, 1, 0, 2, 1, 1, true, 1, 1);
  attention(e, e, e, null, e, e, 0, 3, 3, 2, 1, false, 1, 1);
  attentionBackward(e, e, e, null, e, e, e, e, e, e, 0, 3, 3, 2, 1, false, 1, 1);
  const c: Cfg = { groups: 1, tq: 2, tk: 2, d: 2, scale: 1, causal: false, maskGroup: 1, kvGroup: 1 };
  const r = run(f32([Number.NaN, 0, 1, 0]), f32([1, 0, 0, 1]), f32([1, 2, 3, 4]), null, c);
  assert.ok(Number.isNaN(r.out[0]) && Number.isNaN(r.out[1]) && Number.isNaN(r.lse[0]));
  assert.ok(Number.isFinite(r.out[2]) && Number.isFinite(r.lse[1]));
});
