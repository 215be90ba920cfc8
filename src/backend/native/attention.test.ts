/**
 * Native attention / attentionBackward against two oracles: the js reference backend and a
 * composite written here (the full score matrix by plain loops, a softmax, P·V; the backward pass
 * from the matrix formulas with D_i = Σ_j P_ij·dP_ij rather than dout·out). Cases cover odd sizes,
 * causal and not, tq < tk and tq > tk (rows with no visible key), grouped-query attention
 * (kvGroup 2 and 3, groups not a multiple of kvGroup), additive masks shared by maskGroup groups
 * with −∞ entries and fully masked rows, tq = 1, and empty dimensions; at 1 and 2 threads.
 * Results must be bit-identical run to run and across thread counts (the kernel promises it);
 * short arrays and bad group sizes must throw RangeError. The portable (non-AVX-512) path runs
 * the same file in a child process with LETHE_FUSED_ISA=generic.
 *
 * Tolerance: |native − oracle| <= atol + rtol·|oracle| with atol 2e-6, rtol 2e-5 for out, lse, dq,
 * dk and dv (float32 block products over ≤ 300 terms of O(1) values against double oracles;
 * every case here stays within 3e-7 + 3e-6·|oracle|).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertClose, randF32, rng, type Tol } from '../../../test/helpers/kernel-checks.ts';
import type { Backend } from '../backend.ts';
import { createJsBackend } from '../js/js-backend.ts';
import { loadNativeBackend } from './native-backend.ts';

const native = loadNativeBackend() as Backend & { fusedKernel(): string };
const js = createJsBackend();
const CHILD = process.env.LETHE_FUSED_TEST_CHILD === '1';
const TOL: Tol = { atol: 2e-6, rtol: 2e-5 };

interface Case {
  groups: number;
  tq: number;
  tk: number;
  d: number;
  causal: boolean;
  kvGroup: number;
  maskGroup: number;
  mask: 'none' | 'random';
}

interface Inputs {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  mask: Float32Array | null;
  dout: Float32Array;
  scale: number;
}

interface Outputs {
  out: Float32Array;
  lse: Float32Array;
  dq: Float32Array;
  dk: Float32Array;
  dv: Float32Array;
}

const kvGroupsOf = (c: Case) => Math.ceil(c.groups / c.kvGroup);
const maskBlocksOf = (c: Case) => Math.ceil(c.groups / c.maskGroup);

/** Random inputs; a random mask has ~15% −∞ entries and query row 2 of each block fully masked. */
function makeInputs(c: Case, seed: number): Inputs {
  const r = rng(seed);
  const nq = c.groups * c.tq * c.d;
  const nk = kvGroupsOf(c) * c.tk * c.d;
  let mask: Float32Array | null = null;
  if (c.mask === 'random') {
    mask = randF32(r, maskBlocksOf(c) * c.tq * c.tk, -2, 2);
    for (let e = 0; e < mask.length; e++) if (r() < 0.15) mask[e] = Number.NEGATIVE_INFINITY;
    if (c.tq > 2)
      for (let b = 0; b < maskBlocksOf(c); b++)
        mask.fill(Number.NEGATIVE_INFINITY, (b * c.tq + 2) * c.tk, (b * c.tq + 3) * c.tk);
  }
  return {
    q: randF32(r, nq, -1.5, 1.5),
    k: randF32(r, nk, -1.5, 1.5),
    v: randF32(r, nk),
    mask,
    dout: randF32(r, nq),
    scale: c.d > 0 ? 1 / Math.sqrt(c.d) : 1,
  };
}

/** Forward then backward (the backward consumes the same backend's out and lse). */
function runBackend(b: Backend, c: Case, x: Inputs, fill = 0): Outputs {
  const nq = c.groups * c.tq * c.d;
  const nk = kvGroupsOf(c) * c.tk * c.d;
  const o: Outputs = {
    out: new Float32Array(nq).fill(fill),
    lse: new Float32Array(c.groups * c.tq).fill(fill),
    dq: new Float32Array(nq).fill(fill),
    dk: new Float32Array(nk).fill(fill),
    dv: new Float32Array(nk).fill(fill),
  };
  const { groups, tq, tk, d, causal, maskGroup, kvGroup } = c;
  b.attention(x.q, x.k, x.v, x.mask, o.out, o.lse, groups, tq, tk, d, x.scale, causal, maskGroup, kvGroup);
  b.attentionBackward(
    x.q,
    x.k,
    x.v,
    x.mask,
    o.out,
    o.lse,
    x.dout,
    o.dq,
    o.dk,
    o.dv,
    groups,
    tq,
    tk,
    d,
    x.scale,
    causal,
    maskGroup,
    kvGroup,
  );
  return o;
}

/** The composite oracle: full score matrices in double, softmax, matrix-formula gradients. */
function composite(c: Case, x: Inputs): Outputs {
  const { groups, tq, tk, d, causal, maskGroup, kvGroup } = c;
  const nq = groups * tq * d;
  const nk = kvGroupsOf(c) * tk * d;
  const out = new Float64Array(nq);
  const lse = new Float64Array(groups * tq);
  const dq = new Float64Array(nq);
  const dk = new Float64Array(nk);
  const dv = new Float64Array(nk);
  for (let g = 0; g < groups; g++) {
    const kv = Math.floor(g / kvGroup) * tk * d;
    const mo = Math.floor(g / maskGroup) * tq * tk;
    const Q = (i: number, e: number) => x.q[(g * tq + i) * d + e];
    const K = (j: number, e: number) => x.k[kv + j * d + e];
    const V = (j: number, e: number) => x.v[kv + j * d + e];
    const dO = (i: number, e: number) => x.dout[(g * tq + i) * d + e];
    // S (tq × tk), −∞ where hidden by causality.
    const S: number[][] = [];
    for (let i = 0; i < tq; i++) {
      const row: number[] = [];
      for (let j = 0; j < tk; j++) {
        if (causal && j > i + (tk - tq)) {
          row.push(Number.NEGATIVE_INFINITY);
          continue;
        }
        let s = 0;
        for (let e = 0; e < d; e++) s += Q(i, e) * K(j, e);
        row.push(x.scale * s + (x.mask ? x.mask[mo + i * tk + j] : 0));
      }
      S.push(row);
    }
    // P = softmax(S) per row; a row of −∞ gives P = 0 and lse −∞.
    const P = S.map((row, i) => {
      const m = Math.max(...row, Number.NEGATIVE_INFINITY);
      if (m === Number.NEGATIVE_INFINITY) {
        lse[g * tq + i] = m;
        return row.map(() => 0);
      }
      const ex = row.map((s) => Math.exp(s - m));
      const sum = ex.reduce((a, b) => a + b, 0);
      lse[g * tq + i] = m + Math.log(sum);
      return ex.map((e) => e / sum);
    });
    for (let i = 0; i < tq; i++)
      for (let e = 0; e < d; e++) {
        let s = 0;
        for (let j = 0; j < tk; j++) s += P[i][j] * V(j, e);
        out[(g * tq + i) * d + e] = s;
      }
    // dP = dO·Vᵀ; dS = P ⊙ (dP − rowsum(P ⊙ dP)).
    for (let i = 0; i < tq; i++) {
      const dP: number[] = [];
      for (let j = 0; j < tk; j++) {
        let s = 0;
        for (let e = 0; e < d; e++) s += dO(i, e) * V(j, e);
        dP.push(s);
      }
      let D = 0;
      for (let j = 0; j < tk; j++) D += P[i][j] * dP[j];
      for (let j = 0; j < tk; j++) {
        const ds = P[i][j] * (dP[j] - D);
        if (P[i][j] === 0) continue;
        for (let e = 0; e < d; e++) {
          dq[(g * tq + i) * d + e] += x.scale * ds * K(j, e);
          dk[kv + j * d + e] += x.scale * ds * Q(i, e);
          dv[kv + j * d + e] += P[i][j] * dO(i, e);
        }
      }
    }
  }
  const f = (a: Float64Array) => Float32Array.from(a);
  return { out: f(out), lse: f(lse), dq: f(dq), dk: f(dk), dv: f(dv) };
}

function assertOutputsClose(a: Outputs, e: Outputs, what: string): void {
  for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const)
    assertClose(a[key], e[key], TOL, `${what} ${key}`);
}

function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) {
      assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]} (not bit-identical)`);
    }
  }
}

/** Native at 1 and 2 threads, twice each; all four results bit-identical. Returns the first. */
function runNativeDeterministic(c: Case, x: Inputs, what: string): Outputs {
  const before = native.getThreads();
  let first: Outputs | null = null;
  try {
    for (const threads of [1, 2]) {
      native.setThreads(threads);
      for (let rep = 0; rep < 2; rep++) {
        const o = runBackend(native, c, x, 777);
        if (first === null) first = o;
        else
          for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const)
            assertSameBits(o[key], first[key], `${what} ${key} (threads ${threads}, run ${rep})`);
      }
    }
  } finally {
    native.setThreads(before);
  }
  return first as unknown as Outputs;
}

const c = (
  groups: number,
  tq: number,
  tk: number,
  d: number,
  causal: boolean,
  kvGroup: number,
  maskGroup: number,
  mask: Case['mask'],
): Case => ({ groups, tq, tk, d, causal, kvGroup, maskGroup, mask });

const CASES: Case[] = [
  c(3, 5, 7, 3, false, 1, 1, 'none'),
  c(3, 5, 7, 3, true, 1, 1, 'none'),
  c(4, 37, 53, 19, true, 2, 2, 'random'), // tq < tk, GQA, shared mask blocks
  c(8, 70, 70, 64, true, 1, 1, 'none'), // several key blocks, one kv group per task
  c(8, 70, 70, 64, false, 2, 8, 'random'),
  c(2, 130, 150, 33, false, 2, 1, 'random'), // one kv group: keys split across tasks
  c(2, 150, 130, 33, true, 1, 2, 'random'), // tq > tk: the first 20 rows see no key
  c(5, 17, 17, 8, true, 2, 3, 'random'), // groups not a multiple of kvGroup or maskGroup
  c(6, 65, 129, 64, true, 3, 6, 'none'),
  c(4, 1, 77, 16, true, 2, 4, 'random'), // decoding: one query row
  c(1, 300, 300, 64, true, 1, 1, 'none'),
  c(2, 0, 5, 4, true, 1, 1, 'none'), // tq = 0
  c(2, 3, 0, 4, false, 2, 1, 'random'), // tk = 0: every row fully masked
  c(0, 4, 4, 4, true, 1, 1, 'none'), // groups = 0
  c(2, 4, 6, 0, true, 1, 1, 'random'), // d = 0
];

const name = (k: Case) =>
  `g${k.groups} tq${k.tq} tk${k.tk} d${k.d} ${k.causal ? 'causal' : 'full'} kv${k.kvGroup} mask:${k.mask}/${k.maskGroup}`;

test(`attention kernel ${native.fusedKernel()}`, () => {
  if (process.env.LETHE_FUSED_ISA === 'generic') assert.equal(native.fusedKernel(), 'generic');
});

test('attention forward and backward match the js reference and the composite', () => {
  CASES.forEach((k, idx) => {
    const x = makeInputs(k, 100 + idx);
    const what = name(k);
    const got = runNativeDeterministic(k, x, what);
    assertOutputsClose(got, runBackend(js, k, x), `${what} vs js`);
    assertOutputsClose(got, composite(k, x), `${what} vs composite`);
  });
});

test('attention: fully masked rows give out 0, lse −∞ and zero gradients', () => {
  // tq > tk with causal hides every key from rows 0..3; the mask hides every key from row 6.
  const k = c(2, 10, 6, 5, true, 2, 2, 'none');
  const x = makeInputs(k, 9);
  x.mask = new Float32Array(k.tq * k.tk);
  x.mask.fill(Number.NEGATIVE_INFINITY, 6 * k.tk, 7 * k.tk);
  const o = runBackend(native, k, x, Number.NaN);
  for (let g = 0; g < k.groups; g++)
    for (const i of [0, 1, 2, 3, 6]) {
      const row = g * k.tq + i;
      assert.equal(o.lse[row], Number.NEGATIVE_INFINITY, `lse row ${row}`);
      assert.ok(
        o.out.subarray(row * k.d, (row + 1) * k.d).every((e) => Object.is(e, 0)),
        `out row ${row} is +0`,
      );
      assert.ok(
        o.dq.subarray(row * k.d, (row + 1) * k.d).every((e) => e === 0),
        `dq row ${row} is 0`,
      );
    }
  assert.ok(o.out.every(Number.isFinite) && o.dk.every(Number.isFinite) && o.dv.every(Number.isFinite));
  assertOutputsClose(o, runBackend(js, k, x), 'fully masked vs js');
});

test('attention: NaN in a query row makes that row NaN, like the js reference', () => {
  const k = c(3, 9, 11, 7, false, 1, 1, 'none');
  const x = makeInputs(k, 21);
  x.q[(1 * k.tq + 4) * k.d + 3] = Number.NaN; // group 1, row 4
  const o = runBackend(native, k, x);
  const e = runBackend(js, k, x);
  assert.ok(Number.isNaN(o.lse[1 * k.tq + 4]));
  assertOutputsClose(o, e, 'NaN q vs js');
  // causal: the NaN row's outputs are NaN and the rows that cannot see its keys stay finite
  const kc = c(1, 9, 9, 7, true, 1, 1, 'none');
  const xc = makeInputs(kc, 22);
  xc.k[5 * kc.d] = Number.NaN; // key 5: visible to rows 5..8 only
  const oc = runBackend(native, kc, xc);
  const ec = runBackend(js, kc, xc);
  assertClose(oc.out, ec.out, TOL, 'NaN k causal out');
  assertClose(oc.lse, ec.lse, TOL, 'NaN k causal lse');
  assert.ok(oc.out.subarray(0, 5 * kc.d).every(Number.isFinite), 'rows 0..4 finite');
});

test('attention: short arrays and bad group sizes throw RangeError naming the argument', () => {
  const k = c(4, 5, 6, 3, true, 2, 2, 'random');
  const x = makeInputs(k, 5);
  const { groups, tq, tk, d } = k;
  const nq = groups * tq * d;
  const nk = 2 * tk * d;
  const f = (n: number) => new Float32Array(n);
  const short = (a: Float32Array) => a.subarray(0, a.length - 1);
  const fwd = (over: Partial<Record<string, Float32Array>>, kvGroup = 2, maskGroup = 2) =>
    native.attention(
      over.q ?? x.q,
      over.k ?? x.k,
      over.v ?? x.v,
      over.mask ?? x.mask,
      over.out ?? f(nq),
      over.lse ?? f(groups * tq),
      groups,
      tq,
      tk,
      d,
      x.scale,
      true,
      maskGroup,
      kvGroup,
    );
  const bwd = (over: Partial<Record<string, Float32Array>>) =>
    native.attentionBackward(
      x.q,
      x.k,
      x.v,
      x.mask,
      over.out ?? f(nq),
      over.lse ?? f(groups * tq),
      over.dout ?? x.dout,
      over.dq ?? f(nq),
      over.dk ?? f(nk),
      over.dv ?? f(nk),
      groups,
      tq,
      tk,
      d,
      x.scale,
      true,
      2,
      2,
    );
  fwd({});
  bwd({});
  const mask = x.mask as Float32Array;
  for (const [arg, arr] of [
    ['q', x.q],
    ['k', x.k],
    ['v', x.v],
    ['mask', mask],
    ['out', f(nq)],
    ['lse', f(groups * tq)],
  ] as const) {
    assert.throws(
      () => fwd({ [arg]: short(arr) }),
      (e: Error) => e instanceof RangeError && e.message.includes(`${arg} is too short`),
      `attention ${arg}`,
    );
  }
  for (const [arg, n] of [
    ['out', nq],
    ['lse', groups * tq],
    ['dout', nq],
    ['dq', nq],
    ['dk', nk],
    ['dv', nk],
  ] as const) {
    assert.throws(
      () => bwd({ [arg]: f(n - 1) }),
      (e: Error) => e instanceof RangeError && e.message.includes(`${arg} is too short`),
      `attentionBackward ${arg}`,
    );
  }
  // kvGroup 1 needs k and v for 4 kv groups; maskGroup 1 needs 4 mask blocks.
  assert.throws(() => fwd({}, 1, 2), /k is too short/);
  assert.throws(() => fwd({}, 2, 1), /mask is too short/);
  assert.throws(() => fwd({}, 0, 2), RangeError);
  assert.throws(() => fwd({}, 2, 0), RangeError);
  assert.throws(() => fwd({ q: new Int32Array(nq) as unknown as Float32Array }), TypeError);
});

if (!CHILD) {
  test('attention with LETHE_FUSED_ISA=generic (child process)', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', fileURLToPath(import.meta.url)], {
      env: {
        ...process.env,
        NODE_TEST_CONTEXT: undefined,
        LETHE_FUSED_ISA: 'generic',
        LETHE_FUSED_TEST_CHILD: '1',
      },
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, `child failed:\n${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /attention kernel generic/);
  });
}
