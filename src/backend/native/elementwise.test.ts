/**
 * Native elementwise kernels (unary, unaryBackward, affine, binary, where, copyStrided, gather,
 * scatterAdd) against the js reference backend on random inputs with NaN, ±∞, ±0 and subnormals
 * mixed in: several shapes (broadcasting with size-1 dims, rank 0, empty, strided and transposed
 * views, sizes larger than a parallel chunk so the threaded paths run), at 1 and 2 threads.
 * Native results must be bit-identical run to run and across thread counts, and every kernel
 * must throw (touching nothing) when an array is shorter than its dims say.
 *
 * Tolerances (|native − js| <= atol + rtol·|js|; NaN must match NaN and ±∞ exactly):
 *  - neg, relu, abs, sqrt, their derivatives but sqrt's, binary add/sub/mul/div/maximum/eq/gt,
 *    where, copyStrided, gather, scatterAdd: exact (float32 results of single IEEE operations).
 *  - pow: 1 ulp (double pow rounded once on both sides; libm and V8 may differ in the last bit).
 *  - exp, log, tanh, sigmoid, silu: 1–3 ulp (vector exp <= 1 ulp, tanh <= 2, libm log) plus an
 *    atol in the subnormal range; derivatives 2–5 ulp. Where the js formula itself loses precision
 *    (1 − tanh², σ(1 − σ) and 1 + tanh near ±1 are exact only to ~1e-16 in double), a 1e-15 atol
 *    covers it.
 *  - gelu_erf: 10 ulp (a float rational erfc: 6 ulp worst with FMA, 7 without, on a 1-in-37 sweep
 *    of all floats); its derivative 3e-7 absolute (it crosses zero near x = −0.75) + 4 ulp.
 *  - gelu_tanh and its derivative: atol 1e-6 — the float32 evaluation of
 *    sqrt(2/π)(x + 0.044715x³) carries a few ulp of that argument (~10 for |x| ~ 3), as PyTorch's
 *    float kernel does.
 *  - affine: 2 ulp of |x·scale| + |shift| (native uses float32 scale and shift, js doubles).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, rng, type Tol } from '../../../test/helpers/kernel-checks.ts';
import { type Backend, BINARY_OPS, binaryCode, UNARY_OPS } from '../backend.ts';
import { createJsBackend } from '../js/js-backend.ts';
import { loadNativeBackend } from './native-backend.ts';

const native = loadNativeBackend();
const js = createJsBackend();
const EXACT: Tol = { atol: 0, rtol: 0 };
const ULP = 2 ** -23;

// ---------------------------------------------------------------------------------------------
// helpers

function withThreads<T>(n: number, fn: () => T): T {
  const prev = native.getThreads();
  native.setThreads(n);
  try {
    return fn();
  } finally {
    native.setThreads(prev);
  }
}

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Runs `run` on fresh outputs from `make` with the js backend, then with the native one at 1, 2
 * and again 2 threads: each native result must be within `tol` of js and bit-identical to the
 * first native result.
 */
function check(
  what: string,
  make: () => Float32Array[],
  run: (b: Backend, outs: Float32Array[]) => void,
  tol: Tol | ((k: number) => Tol),
): void {
  const ref = make();
  run(js, ref);
  let first: Float32Array[] | null = null;
  for (const threads of [1, 2, 2]) {
    const outs = make();
    withThreads(threads, () => run(native, outs));
    outs.forEach((o, k) => {
      assertClose(
        o,
        ref[k],
        typeof tol === 'function' ? tol(k) : tol,
        `${what} (threads ${threads}) output ${k}`,
      );
    });
    if (first === null) first = outs;
    else {
      const prev = first;
      outs.forEach((o, k) => {
        assert.ok(bytes(o).equals(bytes(prev[k])), `${what}: bits differ`);
      });
    }
  }
}

const SPECIALS = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  -0,
  88.9,
  -88,
  1e-40,
  100,
  -100,
];

/** Mostly moderate values, some wide ones, some small integers; a special every 37th element. */
function values(r: () => number, n: number, specials = true): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (specials && i % 37 === 5) x[i] = SPECIALS[((i / 37) % SPECIALS.length) | 0];
    else if (u < 0.5) x[i] = (r() * 2 - 1) * 4;
    else if (u < 0.7) x[i] = (r() * 2 - 1) * 20;
    else if (u < 0.8) x[i] = (r() * 2 - 1) * 120;
    else x[i] = Math.round((r() * 2 - 1) * 3);
  }
  return x;
}

const uniform = (r: () => number, n: number, lo = -1, hi = 1): Float32Array => {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + (hi - lo) * r();
  return x;
};

const prod = (s: number[]): number => s.reduce((p, d) => p * d, 1);

/** Row-major strides of `shape`, 0 where the input's dim is 1 and broadcast. */
function broadcastStrides(inShape: number[], outShape: number[]): Int32Array {
  const st = new Int32Array(outShape.length);
  let s = 1;
  for (let d = outShape.length - 1; d >= 0; d--) {
    const k = d - (outShape.length - inShape.length);
    const dim = k >= 0 ? inShape[k] : 1;
    st[d] = dim === 1 ? 0 : s;
    s *= dim;
  }
  return st;
}

// Sizes: empty, one, odd, and larger than a parallel chunk (32768) and odd.
const SIZES = [0, 1, 7, 100_003];

// ---------------------------------------------------------------------------------------------
// unary

const UNARY_TOL: Record<(typeof UNARY_OPS)[number], [Tol, Tol]> = {
  // [forward, backward]
  neg: [EXACT, EXACT],
  exp: [
    { atol: 3e-45, rtol: ULP },
    { atol: 3e-45, rtol: 2 * ULP },
  ],
  log: [
    { atol: 0, rtol: 2 * ULP },
    { atol: 0, rtol: 2 * ULP },
  ],
  sqrt: [EXACT, { atol: 0, rtol: 2 * ULP }],
  tanh: [
    { atol: 1e-45, rtol: 2 * ULP },
    { atol: 1e-15, rtol: 5 * ULP },
  ],
  relu: [EXACT, EXACT],
  sigmoid: [
    { atol: 3e-45, rtol: 3 * ULP },
    { atol: 1e-15, rtol: 5 * ULP },
  ],
  gelu_tanh: [
    { atol: 1e-6, rtol: 2 * ULP },
    { atol: 1e-6, rtol: 4 * ULP },
  ],
  gelu_erf: [
    { atol: 1e-37, rtol: 10 * ULP },
    { atol: 3e-7, rtol: 4 * ULP },
  ],
  silu: [
    { atol: 1e-42, rtol: 3 * ULP },
    { atol: 5e-7, rtol: 4 * ULP },
  ],
  abs: [EXACT, EXACT],
};

test('unary: every op against js, all sizes, 1 and 2 threads, bit-identical', () => {
  const r = rng(11);
  for (const n of SIZES) {
    const x = values(r, n);
    for (let op = 0; op < UNARY_OPS.length; op++) {
      const tol = UNARY_TOL[UNARY_OPS[op]][0];
      check(
        `unary ${UNARY_OPS[op]} n=${n}`,
        () => [new Float32Array(n).fill(-7)],
        (b, [o]) => b.unary(op, x, o),
        tol,
      );
    }
  }
});

test('unary: in place (out === x) and out shorter than x', () => {
  const r = rng(12);
  const x = values(r, 40_001);
  for (let op = 0; op < UNARY_OPS.length; op++) {
    const tol = UNARY_TOL[UNARY_OPS[op]][0];
    check(
      `unary in place ${UNARY_OPS[op]}`,
      () => [x.slice()],
      (b, [o]) => b.unary(op, o, o),
      tol,
    );
    check(
      `unary short out ${UNARY_OPS[op]}`,
      () => [new Float32Array(999)],
      (b, [o]) => b.unary(op, x, o),
      tol,
    );
  }
});

test('unaryBackward: every op against js, NaN/∞ in x, NaN and 0 in dy, 1 and 2 threads', () => {
  const r = rng(13);
  for (const n of SIZES) {
    const x = values(r, n);
    const dy = uniform(r, n, -2, 2);
    // NaN now and then. (Not ±∞: where the js derivative rounds to 0 in double — 1 − tanh² for
    // |x| > 19 — ∞·0 gives NaN there, while the native derivative keeps its tiny true value.)
    for (let i = 11; i < n; i += 211) dy[i] = Number.NaN;
    for (let i = 13; i < n; i += 53) dy[i] = 0;
    for (let op = 0; op < UNARY_OPS.length; op++) {
      const tol = UNARY_TOL[UNARY_OPS[op]][1];
      check(
        `unaryBackward ${UNARY_OPS[op]} n=${n}`,
        () => [new Float32Array(n).fill(-7)],
        (b, [dx]) => b.unaryBackward(op, x, dy, dx),
        tol,
      );
    }
  }
});

test('unary: fixed values (exact where IEEE says so)', () => {
  const x = Float32Array.from([Number.NaN, -0, 0, -1, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  const out = new Float32Array(x.length);
  native.unary(UNARY_OPS.indexOf('relu'), x, out);
  assert.ok(Number.isNaN(out[0]));
  assert.deepEqual([...out.slice(1)], [0, 0, 0, 2, Number.POSITIVE_INFINITY, 0]);
  native.unary(UNARY_OPS.indexOf('exp'), x, out);
  assert.ok(Number.isNaN(out[0]));
  assert.deepEqual(
    [...out.slice(1)],
    [1, 1, Math.fround(Math.exp(-1)), Math.fround(Math.exp(2)), Number.POSITIVE_INFINITY, 0],
  );
  native.unary(UNARY_OPS.indexOf('sigmoid'), x, out);
  assert.deepEqual([...out.slice(5)], [1, 0]);
  // dy·e^x stays finite where e^x alone overflows float32.
  const dx = new Float32Array(1);
  native.unaryBackward(UNARY_OPS.indexOf('exp'), Float32Array.of(89), Float32Array.of(0.5), dx);
  assertClose(
    dx,
    [Math.fround(0.5 * Math.exp(89))],
    { atol: 0, rtol: 2 * ULP },
    'exp backward near overflow',
  );
});

// ---------------------------------------------------------------------------------------------
// affine

test('affine: against js, in place, 1 and 2 threads', () => {
  const r = rng(14);
  for (const n of SIZES) {
    const x = values(r, n);
    for (const [scale, shift] of [
      [0.1, 0.3],
      [-3, 0],
      [1, -1e-3],
    ]) {
      const ref = new Float32Array(n);
      js.affine(x, ref, scale, shift);
      // Per-element bound: 2 ulp of |x·scale| + |shift|.
      for (const threads of [1, 2]) {
        const out = new Float32Array(n);
        withThreads(threads, () => native.affine(x, out, scale, shift));
        for (let i = 0; i < n; i++) {
          if (!Number.isFinite(ref[i])) {
            assert.ok(Object.is(out[i], ref[i]), `affine[${i}]: ${out[i]} vs ${ref[i]}`);
            continue;
          }
          const bound = 2 * ULP * (Math.abs(x[i] * scale) + Math.abs(shift)) + 1e-45;
          assert.ok(Math.abs(out[i] - ref[i]) <= bound, `affine[${i}]: ${out[i]} vs ${ref[i]}`);
        }
      }
      const inPlace = x.slice();
      native.affine(inPlace, inPlace, scale, shift);
      const outOfPlace = new Float32Array(n);
      native.affine(x, outOfPlace, scale, shift);
      assert.ok(bytes(inPlace).equals(bytes(outOfPlace)), 'affine in place');
    }
  }
});

// ---------------------------------------------------------------------------------------------
// binary and where

interface BCase {
  name: string;
  shape: number[];
  aShape: number[];
  bShape: number[];
  /** Optional explicit strides (a strided view of a larger a). */
  aStrides?: number[];
  aLength?: number;
}

const BCASES: BCase[] = [
  { name: 'same shape small', shape: [3, 5], aShape: [3, 5], bShape: [3, 5] },
  { name: 'same shape large odd', shape: [100_003], aShape: [100_003], bShape: [100_003] },
  { name: 'b scalar', shape: [301, 129], aShape: [301, 129], bShape: [] },
  { name: 'a scalar', shape: [301, 129], aShape: [1], bShape: [301, 129] },
  { name: 'both scalar', shape: [7, 5], aShape: [1, 1], bShape: [] },
  { name: 'rank 0', shape: [], aShape: [], bShape: [] },
  { name: 'row vector', shape: [513, 77], aShape: [513, 77], bShape: [77] },
  { name: 'column vector', shape: [513, 77], aShape: [513, 77], bShape: [513, 1] },
  { name: 'outer product', shape: [300, 211], aShape: [300, 1], bShape: [1, 211] },
  { name: '4-d with size-1 dims', shape: [2, 4, 5, 3], aShape: [2, 1, 5, 3], bShape: [1, 4, 1, 3] },
  { name: '4-d large broadcast', shape: [3, 41, 17, 23], aShape: [3, 1, 17, 23], bShape: [41, 1, 1] },
  { name: 'empty', shape: [0, 3], aShape: [0, 3], bShape: [3] },
  { name: 'empty middle', shape: [4, 0, 2], aShape: [4, 0, 2], bShape: [1] },
  // a is the transpose of a (97, 389) matrix: shape (389, 97), strides (1, 389).
  {
    name: 'transposed a',
    shape: [389, 97],
    aShape: [389, 97],
    bShape: [97],
    aStrides: [1, 389],
    aLength: 389 * 97,
  },
  // a is every other column of a (200, 302) matrix, offset 0.
  {
    name: 'strided a',
    shape: [200, 151],
    aShape: [200, 151],
    bShape: [200, 151],
    aStrides: [302, 2],
    aLength: 200 * 302,
  },
];

function binaryInputs(c: BCase, r: () => number) {
  const aLen = c.aLength ?? prod(c.aShape);
  const a = values(r, aLen);
  const b = values(r, prod(c.bShape));
  const aStrides = c.aStrides ? Int32Array.from(c.aStrides) : broadcastStrides(c.aShape, c.shape);
  const bStrides = broadcastStrides(c.bShape, c.shape);
  return { a, b, aStrides, bStrides, shape: Int32Array.from(c.shape), n: prod(c.shape) };
}

test('binary: every op and broadcast form against js, 1 and 2 threads, bit-identical', () => {
  const r = rng(21);
  for (const c of BCASES) {
    const { a, b, aStrides, bStrides, shape, n } = binaryInputs(c, r);
    for (let op = 0; op < BINARY_OPS.length; op++) {
      const tol = BINARY_OPS[op] === 'pow' ? { atol: 1e-45, rtol: ULP } : EXACT;
      check(
        `binary ${BINARY_OPS[op]} ${c.name}`,
        () => [new Float32Array(n).fill(-7)],
        (be, [o]) => be.binary(op, a, b, o, shape, aStrides, bStrides),
        tol,
      );
    }
  }
});

test('binary: pow with common scalar exponents and IEEE edge cases', () => {
  const r = rng(22);
  const a = values(r, 50_001);
  const shape = Int32Array.of(a.length);
  for (const e of [2, 1, 0.5, -1, 3, 0, Number.NaN, Number.POSITIVE_INFINITY]) {
    check(
      `pow exponent ${e}`,
      () => [new Float32Array(a.length)],
      (be, [o]) =>
        be.binary(binaryCode('pow'), a, Float32Array.of(e), o, shape, Int32Array.of(1), Int32Array.of(0)),
      { atol: 1e-45, rtol: ULP },
    );
  }
  const out = new Float32Array(5);
  const st = Int32Array.of(1);
  native.binary(
    binaryCode('pow'),
    Float32Array.of(1, Number.NaN, -1, -8, 0),
    Float32Array.of(Number.NaN, 0, Number.POSITIVE_INFINITY, 1 / 3, -1),
    out,
    Int32Array.of(5),
    st,
    st,
  );
  assert.deepEqual([...out.slice(0, 3)], [1, 1, 1]);
  assert.ok(Number.isNaN(out[3]));
  assert.equal(out[4], Number.POSITIVE_INFINITY);
  native.binary(
    binaryCode('maximum'),
    Float32Array.of(Number.NaN, 1),
    Float32Array.of(1, Number.NaN),
    out.subarray(0, 2),
    Int32Array.of(2),
    st,
    st,
  );
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]), 'maximum propagates NaN from either side');
});

test('binary: in place accumulate (out === a) with a broadcast b', () => {
  const r = rng(23);
  const shape = [517, 129];
  const a = uniform(r, prod(shape));
  const b = uniform(r, 129);
  const aSt = broadcastStrides(shape, shape);
  const bSt = broadcastStrides([129], shape);
  check(
    'binary add in place',
    () => [a.slice()],
    (be, [o]) => be.binary(binaryCode('add'), o, b, o, Int32Array.from(shape), aSt, bSt),
    EXACT,
  );
});

test('where: broadcast cond/a/b, NaN condition selects a, 1 and 2 threads', () => {
  const r = rng(24);
  const cases: [number[], number[], number[], number[]][] = [
    // [shape, condShape, aShape, bShape]
    [
      [3, 4],
      [3, 4],
      [3, 4],
      [3, 4],
    ],
    [[100_003], [100_003], [100_003], [100_003]],
    [[257, 300], [257, 1], [257, 300], []],
    [[4, 64, 64], [64, 64], [4, 64, 64], [1]],
    [
      [5, 7, 9],
      [1, 7, 1],
      [5, 1, 9],
      [5, 7, 1],
    ],
    [[0, 4], [4], [0, 4], [1]],
    [[], [], [], []],
  ];
  for (const [shape, cs, as, bs] of cases) {
    const cond = new Float32Array(prod(cs));
    for (let i = 0; i < cond.length; i++) {
      const u = r();
      cond[i] = u < 0.4 ? 0 : u < 0.45 ? -0 : u < 0.5 ? Number.NaN : u < 0.75 ? 1 : r() * 2 - 1;
    }
    const a = values(r, prod(as));
    const b = values(r, prod(bs));
    const n = prod(shape);
    check(
      `where ${JSON.stringify(shape)}`,
      () => [new Float32Array(n).fill(-7)],
      (be, [o]) =>
        be.where(
          cond,
          a,
          b,
          o,
          Int32Array.from(shape),
          broadcastStrides(cs, shape),
          broadcastStrides(as, shape),
          broadcastStrides(bs, shape),
        ),
      EXACT,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// copyStrided

interface CCase {
  name: string;
  srcLen: number;
  srcOffset: number;
  srcStrides: number[];
  dstLen: number;
  dstOffset: number;
  dstStrides: number[];
  shape: number[];
}

const contig = (shape: number[]): number[] => shape.map((_, d) => prod(shape.slice(d + 1)));

const CCASES: CCase[] = [
  // (B, T, NH, HS) -> (B, NH, T, HS): inner dim contiguous on both sides.
  {
    name: 'permute 0213',
    srcLen: 2 * 64 * 6 * 48,
    srcOffset: 0,
    srcStrides: [64 * 6 * 48, 48, 6 * 48, 1],
    dstLen: 2 * 64 * 6 * 48,
    dstOffset: 0,
    dstStrides: contig([2, 6, 64, 48]),
    shape: [2, 6, 64, 48],
  },
  // 2-d transpose of a (301, 517) matrix into a bigger buffer (tiled path), with offsets.
  {
    name: 'transpose',
    srcLen: 301 * 517 + 5,
    srcOffset: 5,
    srcStrides: [1, 517],
    dstLen: 517 * 301 + 9,
    dstOffset: 9,
    dstStrides: [301, 1],
    shape: [517, 301],
  },
  // batched transpose (3, 70, 90) -> (3, 90, 70).
  {
    name: 'batched transpose',
    srcLen: 3 * 70 * 90,
    srcOffset: 0,
    srcStrides: [70 * 90, 1, 90],
    dstLen: 3 * 90 * 70,
    dstOffset: 0,
    dstStrides: [90 * 70, 70, 1],
    shape: [3, 90, 70],
  },
  // a slice: rows 2..6, cols 3..14 of a (10, 20) matrix into a (5, 12) block.
  {
    name: 'slice',
    srcLen: 200,
    srcOffset: 2 * 20 + 3,
    srcStrides: [20, 1],
    dstLen: 60,
    dstOffset: 0,
    dstStrides: [12, 1],
    shape: [5, 12],
  },
  // slice backward: a (5, 12) block into rows 2..6, cols 3..14 of a (10, 20) matrix.
  {
    name: 'slice backward',
    srcLen: 60,
    srcOffset: 0,
    srcStrides: [12, 1],
    dstLen: 200,
    dstOffset: 43,
    dstStrides: [20, 1],
    shape: [5, 12],
  },
  // broadcast expansion (1, 7) -> (9000, 7).
  {
    name: 'expand rows',
    srcLen: 7,
    srcOffset: 0,
    srcStrides: [0, 1],
    dstLen: 63_000,
    dstOffset: 0,
    dstStrides: [7, 1],
    shape: [9000, 7],
  },
  // broadcast expansion (300, 1) -> (300, 251).
  {
    name: 'expand cols',
    srcLen: 300,
    srcOffset: 0,
    srcStrides: [1, 0],
    dstLen: 300 * 251,
    dstOffset: 0,
    dstStrides: [251, 1],
    shape: [300, 251],
  },
  // reversed (negative stride) copy of 100003 elements.
  {
    name: 'flip',
    srcLen: 100_003,
    srcOffset: 100_002,
    srcStrides: [-1],
    dstLen: 100_003,
    dstOffset: 0,
    dstStrides: [1],
    shape: [100_003],
  },
  // strided on both sides, inner dim strided (general path).
  {
    name: 'general strided',
    srcLen: 40 * 50 * 6,
    srcOffset: 1,
    srcStrides: [6, 40 * 6, 2],
    dstLen: 50 * 40 * 3 * 2,
    dstOffset: 0,
    dstStrides: [3 * 2, 40 * 3 * 2, 2],
    shape: [40, 50, 3],
  },
  // concat: a (4, 5) block into columns 5..9 of a (4, 10) matrix.
  {
    name: 'concat',
    srcLen: 20,
    srcOffset: 0,
    srcStrides: [5, 1],
    dstLen: 40,
    dstOffset: 5,
    dstStrides: [10, 1],
    shape: [4, 5],
  },
  {
    name: 'large contiguous',
    srcLen: 200_001,
    srcOffset: 0,
    srcStrides: [1],
    dstLen: 200_001,
    dstOffset: 0,
    dstStrides: [1],
    shape: [200_001],
  },
  {
    name: 'rank 0',
    srcLen: 3,
    srcOffset: 2,
    srcStrides: [],
    dstLen: 2,
    dstOffset: 1,
    dstStrides: [],
    shape: [],
  },
  {
    name: 'empty',
    srcLen: 0,
    srcOffset: 0,
    srcStrides: [5, 1],
    dstLen: 0,
    dstOffset: 0,
    dstStrides: [5, 1],
    shape: [0, 5],
  },
];

test('copyStrided: permute, transpose, slice, expand, flip, concat, general; copy and accumulate', () => {
  const r = rng(31);
  for (const c of CCASES) {
    const src = values(r, c.srcLen);
    const dst0 = values(r, c.dstLen);
    for (const acc of [false, true]) {
      check(
        `copyStrided ${c.name}${acc ? ' accumulate' : ''}`,
        () => [dst0.slice()],
        (be, [dst]) =>
          be.copyStrided(
            src,
            c.srcOffset,
            Int32Array.from(c.srcStrides),
            dst,
            c.dstOffset,
            Int32Array.from(c.dstStrides),
            Int32Array.from(c.shape),
            acc,
          ),
        EXACT,
      );
    }
  }
});

test('copyStrided: a dst stride of 0 without accumulate keeps the last write (serial order)', () => {
  const src = Float32Array.from({ length: 50_000 }, (_, i) => i);
  for (const threads of [1, 2]) {
    const dst = new Float32Array(3);
    withThreads(threads, () =>
      native.copyStrided(
        src,
        0,
        Int32Array.of(3, 1),
        dst,
        0,
        Int32Array.of(0, 1),
        Int32Array.of(16_666, 3),
        false,
      ),
    );
    assert.deepEqual([...dst], [49_995, 49_996, 49_997]);
  }
});

// ---------------------------------------------------------------------------------------------
// gather and scatterAdd

test('gather: random rows with repeats, several widths, 1 and 2 threads', () => {
  const r = rng(41);
  for (const [rows, cols, n] of [
    [50, 3, 7],
    [50, 1, 40_000],
    [1000, 300, 513],
    [7, 64, 0],
  ]) {
    const table = values(r, rows * cols);
    const idx = Int32Array.from({ length: n }, () => Math.floor(r() * rows));
    check(
      `gather ${rows}x${cols} n=${n}`,
      () => [new Float32Array(n * cols).fill(-7)],
      (be, [o]) => be.gather(table, idx, o, cols),
      EXACT,
    );
  }
});

test('scatterAdd: repeated indices accumulate in source order, any thread count', () => {
  const r = rng(42);
  for (const [rows, cols, n] of [
    [10, 3, 9],
    [37, 3, 40_000], // narrow rows: split by destination rows
    [5, 1, 100_003],
    [64, 300, 700], // wide rows: split by columns
    [3, 1000, 200], // heavy repeats
    [8, 16, 0],
  ]) {
    const src = uniform(r, n * cols);
    const idx = Int32Array.from({ length: n }, () => Math.floor(r() * rows));
    const dst0 = uniform(r, rows * cols);
    check(
      `scatterAdd ${rows}x${cols} n=${n}`,
      () => [dst0.slice()],
      (be, [d]) => be.scatterAdd(src, idx, d, cols),
      EXACT,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// argument checking

test('a too-short array (or a bad index or op code) throws and writes nothing', () => {
  const f = (n: number) => new Float32Array(n).fill(3);
  const i = (...xs: number[]) => Int32Array.from(xs);
  const out = f(4);
  const untouched = () => assert.deepEqual([...out], [3, 3, 3, 3]);
  assert.throws(() => native.unary(0, f(3), out), { name: 'RangeError', message: /unary: x has 3 elements/ });
  assert.throws(() => native.unary(11, f(4), out), { name: 'RangeError', message: /op/ });
  assert.throws(() => native.unary(0, new Float64Array(4) as unknown as Float32Array, out), {
    name: 'TypeError',
    message: /x .*Float32Array/,
  });
  assert.throws(() => native.unaryBackward(1, f(4), f(2), out), { name: 'RangeError', message: /dy has 2/ });
  assert.throws(() => native.affine(f(1), out, 1, 0), { name: 'RangeError', message: /affine: x/ });
  assert.throws(() => native.binary(0, f(3), f(4), out, i(4), i(1), i(1)), {
    name: 'RangeError',
    message: /binary: a has 3/,
  });
  assert.throws(() => native.binary(0, f(4), f(1), out, i(2, 2), i(2, 1), i(0, 1)), {
    name: 'RangeError',
    message: /binary: b has 1/,
  });
  assert.throws(() => native.binary(0, f(8), f(8), out, i(8), i(1), i(1)), {
    name: 'RangeError',
    message: /binary: out has 4/,
  });
  assert.throws(() => native.binary(0, f(4), f(4), out, i(4), i(1), i(1, 1)), {
    name: 'RangeError',
    message: /bStrides/,
  });
  assert.throws(() => native.binary(8, f(4), f(4), out, i(4), i(1), i(1)), {
    name: 'RangeError',
    message: /op/,
  });
  assert.throws(() => native.binary(0, f(4), f(4), out, i(-4), i(1), i(1)), {
    name: 'RangeError',
    message: /shape/,
  });
  assert.throws(() => native.where(f(2), f(4), f(4), out, i(4), i(1), i(1), i(1)), {
    name: 'RangeError',
    message: /where: cond/,
  });
  assert.throws(() => native.copyStrided(f(4), 1, i(1), out, 0, i(1), i(4), false), {
    name: 'RangeError',
    message: /src/,
  });
  assert.throws(() => native.copyStrided(f(4), 0, i(-1), out, 0, i(1), i(4), false), {
    name: 'RangeError',
    message: /src/,
  });
  assert.throws(() => native.copyStrided(f(8), 0, i(1), out, 0, i(1), i(8), true), {
    name: 'RangeError',
    message: /dst has 4/,
  });
  assert.throws(() => native.gather(f(8), i(0, 1, 2), out, 2), {
    name: 'RangeError',
    message: /gather: out has 4/,
  });
  assert.throws(() => native.gather(f(8), i(0, 4), out, 2), { name: 'RangeError', message: /idx\[1\] = 4/ });
  assert.throws(() => native.gather(f(8), i(-1, 0), out, 2), {
    name: 'RangeError',
    message: /idx\[0\] = -1/,
  });
  assert.throws(() => native.scatterAdd(f(3), i(0, 1), out, 2), {
    name: 'RangeError',
    message: /scatterAdd: src has 3/,
  });
  assert.throws(() => native.scatterAdd(f(4), i(0, 2), out, 2), {
    name: 'RangeError',
    message: /idx\[1\] = 2/,
  });
  assert.throws(() => native.gather(f(8), i(0), out, 1.5), { name: 'RangeError', message: /cols/ });
  untouched();
});
