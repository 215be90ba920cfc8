/**
 * Native reductions (reduce sum/max, sumSquares) and row-wise softmax kernels (softmax,
 * softmaxBackward, logSoftmax, logSoftmaxBackward) against the js reference backend: many
 * (outer, r, inner) and (rows, cols) shapes — empty, r = 0, single elements, odd sizes, rows
 * wider than a parallel chunk, few outputs over a long axis (the split-axis path), inner blocks
 * wider than the column block — with NaN and ±∞ inputs, at 1 and 2 threads. Native results must
 * be bit-identical run to run and across thread counts (the partition depends only on shapes),
 * and a too-short array must throw before anything is written.
 *
 * Tolerances (|native − js| <= bound; NaN must match NaN and ±∞ exactly):
 *  - reduce max: exact. reduce sum: both sum in double and round once, in different orders:
 *    2⁻²⁴·|sum| + 1e-15·Σ|x| (half an ulp of the result plus double-precision order effects).
 *  - sumSquares: relative 1e-12 (double sums in different orders), and exactly 0 when empty.
 *  - softmax: (4 + |x − max|)·2⁻²³ relative + 1e-45: exp <= 1 ulp and one multiply by 1/Σ, and
 *    x − max is rounded to float32 first (as PyTorch's float kernel does), which shifts the
 *    exponent by up to |x − max|·2⁻²⁴.
 *  - logSoftmax: 2⁻²²·(|x| + 2|max| + 2 log Σ): a couple of ulp of the terms x − max − log Σ.
 *  - softmaxBackward: 2⁻²²·|y|·(|dy| + |Σ dy·y|) + 1e-45 (the float subtraction dy − dot).
 *  - logSoftmaxBackward: 2⁻²²·(|dy| + 2·e^y·|Σ dy|) (exp <= 1 ulp, then one subtraction).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../../test/helpers/kernel-checks.ts';
import type { Backend } from '../backend.ts';
import { createJsBackend } from '../js/js-backend.ts';
import { loadNativeBackend } from './native-backend.ts';

const native = loadNativeBackend();
const js = createJsBackend();
const ULP = 2 ** -23;

function withThreads<T>(n: number, fn: () => T): T {
  const prev = native.getThreads();
  native.setThreads(n);
  try {
    return fn();
  } finally {
    native.setThreads(prev);
  }
}

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** |a − e| <= bound(i) elementwise; NaN must match NaN, ±∞ exactly. */
function assertWithin(
  actual: Float32Array,
  expected: Float32Array,
  bound: (i: number) => number,
  what: string,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(e)) {
      assert.ok(
        Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)),
        `${what}[${i}]: got ${a}, expected ${e}`,
      );
      continue;
    }
    const b = bound(i);
    assert.ok(Math.abs(a - e) <= b, `${what}[${i}]: got ${a}, expected ${e} (err ${Math.abs(a - e)} > ${b})`);
  }
}

/**
 * js once, native at 1, 2 and 2 threads: within `bound` of js and bit-identical to the first
 * native run. `make` returns fresh outputs.
 */
function check(
  what: string,
  make: () => Float32Array,
  run: (b: Backend, out: Float32Array) => void,
  bound: (i: number, ref: Float32Array) => number,
): void {
  const ref = make();
  run(js, ref);
  let first: Float32Array | null = null;
  for (const threads of [1, 2, 2]) {
    const out = make();
    withThreads(threads, () => run(native, out));
    assertWithin(out, ref, (i) => bound(i, ref), `${what} (threads ${threads})`);
    if (first === null) first = out;
    else assert.ok(bytes(out).equals(bytes(first)), `${what}: bits differ between runs or thread counts`);
  }
}

function uniform(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = lo + (hi - lo) * r();
  return x;
}

// ---------------------------------------------------------------------------------------------
// reduce

const REDUCE_SHAPES: [number, number, number][] = [
  // [outer, r, inner]
  [0, 5, 3],
  [3, 0, 4],
  [2, 3, 0],
  [1, 1, 1],
  [7, 13, 1],
  [5, 1000, 1],
  [1, 100_003, 1], // one long row: split-axis path
  [3, 50_001, 1], // few long rows: split-axis path
  [300, 257, 1], // many rows
  [4, 37, 3],
  [1, 70_001, 2], // few outputs, long axis, inner > 1: split-axis path
  [2, 300, 600], // inner wider than a column block
  [6, 129, 1025],
  [1, 200, 2500], // few column blocks (the last one partial) over a long axis: split-axis path
  [1000, 3, 17],
  [100_003, 3, 1], // many short rows
  [20_000, 31, 1],
  [1, 5, 100_003], // long inner, short axis
];

test('reduce sum and max: many (outer, r, inner) shapes with NaN and ±∞, 1 and 2 threads', () => {
  const r = rng(51);
  for (const [outer, rr, inner] of REDUCE_SHAPES) {
    const n = outer * rr * inner;
    const x = uniform(r, n, -10, 10);
    const outs = outer * inner;
    // Σ|x| per output, for the sum tolerance.
    const absSum = new Float64Array(outs);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < rr; j++)
        for (let i = 0; i < inner; i++) absSum[o * inner + i] += Math.abs(x[(o * rr + j) * inner + i]);
    check(
      `reduce sum ${outer}x${rr}x${inner}`,
      () => new Float32Array(outs).fill(-7),
      (b, out) => b.reduce(0, x, out, outer, rr, inner),
      (i, ref) => 2 ** -24 * Math.abs(ref[i]) + 1e-15 * absSum[i],
    );
    // Specials for max (and sum: NaN/∞ propagate through both).
    const xs = x.slice();
    for (let k = 3; k < n; k += 997)
      xs[k] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][k % 3];
    check(
      `reduce max ${outer}x${rr}x${inner}`,
      () => new Float32Array(outs).fill(-7),
      (b, out) => b.reduce(1, xs, out, outer, rr, inner),
      () => 0,
    );
    check(
      `reduce sum with specials ${outer}x${rr}x${inner}`,
      () => new Float32Array(outs).fill(-7),
      (b, out) => b.reduce(0, xs, out, outer, rr, inner),
      (i, ref) => 2 ** -24 * Math.abs(ref[i]) + 1e-15 * absSum[i],
    );
  }
});

test('reduce: r = 0 gives 0 (sum) and −∞ (max); max of NaN and all −∞ rows', () => {
  const out = new Float32Array(4).fill(5);
  native.reduce(0, new Float32Array(0), out, 2, 0, 2);
  assert.deepEqual([...out], [0, 0, 0, 0]);
  native.reduce(1, new Float32Array(0), out, 2, 0, 2);
  assert.deepEqual([...out], Array(4).fill(Number.NEGATIVE_INFINITY));
  const x = Float32Array.of(
    1,
    Number.NaN,
    3,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  );
  native.reduce(1, x, out.subarray(0, 2), 2, 3, 1);
  assert.ok(Number.isNaN(out[0]));
  assert.equal(out[1], Number.NEGATIVE_INFINITY);
});

// ---------------------------------------------------------------------------------------------
// sumSquares

test('sumSquares: matches js to 1e-12, identical across thread counts, 0 when empty', () => {
  const r = rng(52);
  assert.equal(native.sumSquares(new Float32Array(0)), 0);
  for (const n of [1, 7, 16_385, 1_000_003]) {
    const x = uniform(r, n, -3, 3);
    const ref = js.sumSquares(x);
    const got = [1, 2, 2].map((t) => withThreads(t, () => native.sumSquares(x)));
    for (const g of got) assert.ok(Math.abs(g - ref) <= 1e-12 * ref, `sumSquares n=${n}: ${g} vs ${ref}`);
    assert.ok(
      got.every((g) => Object.is(g, got[0])),
      `sumSquares n=${n}: differs across runs/threads`,
    );
  }
  const x = Float32Array.of(1, Number.NaN, 2);
  assert.ok(Number.isNaN(native.sumSquares(x)));
  assert.equal(native.sumSquares(Float32Array.of(3, Number.NEGATIVE_INFINITY)), Number.POSITIVE_INFINITY);
});

// ---------------------------------------------------------------------------------------------
// softmax family

const ROW_SHAPES: [number, number][] = [
  [0, 5],
  [3, 0],
  [1, 1],
  [7, 13],
  [33, 1000],
  [300, 129], // many rows across threads
  [3, 50_257], // vocab-sized rows
];

/** Rows of logits in a wide range, with special rows: a NaN, all −∞, a +∞, some −∞ (masked). */
function logits(r: () => number, rows: number, cols: number): Float32Array {
  const x = uniform(r, rows * cols, -30, 30);
  const special = (row: number, f: (j: number) => number) => {
    if (row < rows) for (let j = 0; j < cols; j++) x[row * cols + j] = f(j);
  };
  if (cols > 1) {
    special(1, (j) => (j === cols >> 1 ? Number.NaN : x[cols + j]));
    special(2, () => Number.NEGATIVE_INFINITY);
    special(3, (j) => (j === 0 ? Number.POSITIVE_INFINITY : x[3 * cols + j]));
    special(4, (j) => (j % 3 === 0 ? Number.NEGATIVE_INFINITY : x[4 * cols + j]));
  }
  return x;
}

test('softmax and logSoftmax: against js, special rows, 1 and 2 threads', () => {
  const r = rng(53);
  for (const [rows, cols] of ROW_SHAPES) {
    const x = logits(r, rows, cols);
    const n = rows * cols;
    // Row max and log Σ e^(x − max) for the bounds.
    const rowMax = new Float64Array(rows);
    const rowTerm = new Float64Array(rows);
    for (let row = 0; row < rows; row++) {
      let m = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) m = Math.max(m, x[row * cols + j]);
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(x[row * cols + j] - m);
      rowMax[row] = m;
      rowTerm[row] = Math.abs(m) + Math.log(s);
    }
    check(
      `softmax ${rows}x${cols}`,
      () => new Float32Array(n).fill(-7),
      (b, out) => b.softmax(x, out, rows, cols),
      (i, ref) =>
        ref[i] === 0
          ? 1e-45
          : (4 + Math.abs(x[i] - rowMax[Math.floor(i / cols)])) * ULP * Math.abs(ref[i]) + 1e-45,
    );
    check(
      `logSoftmax ${rows}x${cols}`,
      () => new Float32Array(n).fill(-7),
      (b, out) => b.logSoftmax(x, out, rows, cols),
      (i) => 2 * ULP * (Math.abs(x[i]) + 2 * rowTerm[Math.floor(i / cols)]),
    );
  }
});

test('softmaxBackward and logSoftmaxBackward: against js, 1 and 2 threads', () => {
  const r = rng(54);
  for (const [rows, cols] of ROW_SHAPES) {
    const n = rows * cols;
    const x = uniform(r, n, -8, 8);
    const y = new Float32Array(n);
    js.softmax(x, y, rows, cols);
    const ly = new Float32Array(n);
    js.logSoftmax(x, ly, rows, cols);
    const dy = uniform(r, n, -1, 1);
    if (n > 10) dy[7] = Number.NaN; // a NaN gradient spoils its row
    const dot = new Float64Array(rows);
    const sum = new Float64Array(rows);
    for (let row = 0; row < rows; row++)
      for (let j = 0; j < cols; j++) {
        dot[row] += Math.abs(dy[row * cols + j] * y[row * cols + j]);
        sum[row] += dy[row * cols + j];
      }
    check(
      `softmaxBackward ${rows}x${cols}`,
      () => new Float32Array(n).fill(-7),
      (b, dx) => b.softmaxBackward(y, dy, dx, rows, cols),
      (i) => 2 * ULP * Math.abs(y[i]) * (Math.abs(dy[i]) + 2 * dot[Math.floor(i / cols)]) + 1e-45,
    );
    check(
      `logSoftmaxBackward ${rows}x${cols}`,
      () => new Float32Array(n).fill(-7),
      (b, dx) => b.logSoftmaxBackward(ly, dy, dx, rows, cols),
      (i) => 2 * ULP * (Math.abs(dy[i]) + 2 * Math.exp(ly[i]) * Math.abs(sum[Math.floor(i / cols)])) + 1e-45,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// argument checking

test('a too-short array (or a bad op code or dim) throws and writes nothing', () => {
  const f = (n: number) => new Float32Array(n).fill(3);
  const out = f(6);
  assert.throws(() => native.reduce(0, f(11), out, 2, 3, 2), {
    name: 'RangeError',
    message: /reduce: x has 11/,
  });
  assert.throws(() => native.reduce(1, f(12), out.subarray(0, 3), 2, 3, 2), {
    name: 'RangeError',
    message: /out has 3/,
  });
  assert.throws(() => native.reduce(2, f(12), out, 2, 3, 2), { name: 'RangeError', message: /op/ });
  assert.throws(() => native.reduce(0, f(12), out, -2, 3, 2), { name: 'RangeError', message: /outer/ });
  assert.throws(() => native.softmax(f(5), out, 2, 3), { name: 'RangeError', message: /softmax: x has 5/ });
  assert.throws(() => native.logSoftmax(f(6), f(4), 2, 3), {
    name: 'RangeError',
    message: /logSoftmax: out has 4/,
  });
  assert.throws(() => native.softmaxBackward(f(6), f(5), out, 2, 3), {
    name: 'RangeError',
    message: /dy has 5/,
  });
  assert.throws(() => native.logSoftmaxBackward(f(5), f(6), out, 2, 3), {
    name: 'RangeError',
    message: /y has 5/,
  });
  assert.throws(() => native.softmax(f(6), new Float64Array(6) as unknown as Float32Array, 2, 3), {
    name: 'TypeError',
    message: /out/,
  });
  assert.throws(() => native.sumSquares([1, 2] as unknown as Float32Array), {
    name: 'TypeError',
    message: /x/,
  });
  assert.deepEqual([...out], Array(6).fill(3));
});
