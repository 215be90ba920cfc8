/**
 * Native fused row kernels (crossEntropy, layerNorm, rmsNorm, rope and their backward passes)
 * against the js reference backend, at 1 and 2 threads: odd sizes, 0 rows, vocabularies up to
 * 50K columns, ignore index, null bias / null db, in-place rope, ±∞ and NaN rows. Results must be
 * bit-identical run to run and across thread counts (the kernels promise it), too-short arrays
 * and bad targets must throw RangeError. The portable (non-AVX-512) path runs the same file in a
 * child process with LETHE_FUSED_ISA=generic.
 *
 * Tolerances (|native − js| <= atol + rtol·|js|), js computing in double:
 * - crossEntropy lse/loss: atol 2e-6, rtol 2e-6 (float e^x, double sums, float output rounding).
 * - crossEntropyBackward: atol 1e-9, rtol 1e-5 (e^{x−lse} with x−lse rounded to float:
 *   |x−lse|·2⁻²⁴ relative, |x−lse| <= ~40 here).
 * - layerNorm/rmsNorm out, mean, rstd, dx: atol 1e-6, rtol 1e-6 (same double formulas, only the
 *   summation order of the statistics differs).
 * - dw/db: atol 1e-5, rtol 1e-6 (double sums over rows in a different order).
 * - rope: exact (products of floats are exact in double; one rounding, as in js).
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
const THREADS = [1, 2];

const TOL_CE: Tol = { atol: 2e-6, rtol: 2e-6 };
const TOL_CE_GRAD: Tol = { atol: 1e-9, rtol: 1e-5 };
const TOL_NORM: Tol = { atol: 1e-6, rtol: 1e-6 };
const TOL_NORM_SUM: Tol = { atol: 1e-5, rtol: 1e-6 };
const EXACT: Tol = { atol: 0, rtol: 0 };

/** Runs fn at each thread count, restoring the original count afterwards. */
function atThreads(fn: (threads: number) => void): void {
  const before = native.getThreads();
  try {
    for (const t of THREADS) {
      native.setThreads(t);
      fn(t);
    }
  } finally {
    native.setThreads(before);
  }
}

/** Same bits (NaN payloads aside), element by element. */
function assertSameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) {
      assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]} (not bit-identical)`);
    }
  }
}

/** Runs `run` (which fills and returns fresh outputs) at 1 and 2 threads and twice per count;
 *  every result must be bit-identical to the first. Returns the first. */
function deterministic(run: () => Float32Array[], what: string): Float32Array[] {
  let first: Float32Array[] | null = null;
  atThreads((t) => {
    for (let rep = 0; rep < 2; rep++) {
      const outs = run();
      if (first === null) first = outs;
      else
        for (const [i, o] of outs.entries())
          assertSameBits(o, (first as Float32Array[])[i], `${what} output ${i} (threads ${t})`);
    }
  });
  return first as unknown as Float32Array[];
}

test(`fused kernels report their implementation (kernel ${native.fusedKernel()})`, () => {
  assert.ok(['avx512', 'generic'].includes(native.fusedKernel()));
  if (process.env.LETHE_FUSED_ISA === 'generic') assert.equal(native.fusedKernel(), 'generic');
});

// ------------------------------------------------------------------------------------------------
// Cross-entropy

function ceCase(rows: number, cols: number, seed: number, ignoreIndex: number, special = false) {
  const r = rng(seed);
  const logits = randF32(r, rows * cols, -8, 8);
  const targets = new Int32Array(rows);
  for (let i = 0; i < rows; i++) targets[i] = Math.floor(r() * cols);
  if (rows > 2) targets[1] = ignoreIndex;
  if (special && rows >= 6) {
    logits.fill(Number.NEGATIVE_INFINITY, 2 * cols, 3 * cols); // all −∞: lse −∞
    logits[3 * cols + 1] = Number.NaN; // NaN row
    for (let j = 0; j < cols; j++) logits[4 * cols + j] += 80; // large values: max-shift needed
    logits[5 * cols + (cols >> 1)] = Number.POSITIVE_INFINITY; // +∞: NaN like the reference
  }
  return { logits, targets };
}

const CE_SHAPES: [number, number][] = [
  [0, 7],
  [1, 1],
  [5, 17],
  [6, 2049],
  [13, 4099],
  [3, 50257],
];

test('crossEntropy and crossEntropyBackward match the js reference', () => {
  for (const [rows, cols] of CE_SHAPES) {
    for (const ignoreIndex of [-100, 0]) {
      const { logits, targets } = ceCase(rows, cols, rows * 31 + cols, ignoreIndex, true);
      const dLoss = randF32(rng(cols), rows, 0.1, 2);
      const eLoss = new Float32Array(rows);
      const eLse = new Float32Array(rows);
      js.crossEntropy(logits, targets, eLoss, eLse, rows, cols, ignoreIndex);
      const eGrad = new Float32Array(rows * cols);
      js.crossEntropyBackward(logits, targets, eLse, dLoss, eGrad, rows, cols, ignoreIndex);
      const what = `ce ${rows}x${cols} ignore ${ignoreIndex}`;
      const [loss, lse, grad] = deterministic(() => {
        const loss = new Float32Array(rows).fill(123);
        const lse = new Float32Array(rows).fill(123);
        native.crossEntropy(logits, targets, loss, lse, rows, cols, ignoreIndex);
        const grad = new Float32Array(rows * cols).fill(123);
        native.crossEntropyBackward(logits, targets, eLse, dLoss, grad, rows, cols, ignoreIndex);
        return [loss, lse, grad];
      }, what);
      assertClose(lse, eLse, TOL_CE, `${what} lse`);
      assertClose(loss, eLoss, TOL_CE, `${what} loss`);
      assertClose(grad, eGrad, TOL_CE_GRAD, `${what} dLogits`);
    }
  }
});

test('crossEntropy: special rows behave like the reference', () => {
  const cols = 300;
  const { logits, targets } = ceCase(6, cols, 7, -100, true);
  const loss = new Float32Array(6);
  const lse = new Float32Array(6);
  native.crossEntropy(logits, targets, loss, lse, 6, cols, -100);
  assert.equal(loss[1], 0, 'ignored row has loss 0');
  assert.ok(Number.isFinite(lse[1]), 'ignored row still gets its lse');
  assert.equal(lse[2], Number.NEGATIVE_INFINITY, 'all −∞ row: lse −∞');
  assert.ok(Number.isNaN(lse[3]) && Number.isNaN(loss[3]), 'NaN logit: NaN lse and loss');
  assert.ok(Number.isFinite(lse[4]) && lse[4] > 80, 'large logits do not overflow');
  assert.ok(Number.isNaN(lse[5]), '+∞ logit: NaN lse (as the reference)');
});

test('crossEntropy: bad targets and short arrays throw RangeError', () => {
  const rows = 4;
  const cols = 9;
  const { logits, targets } = ceCase(rows, cols, 3, -100);
  const f = (n: number) => new Float32Array(n);
  const ok = () => native.crossEntropy(logits, targets, f(rows), f(rows), rows, cols, -100);
  ok();
  for (const bad of [cols, -1, -99, 1 << 30]) {
    const t = targets.slice();
    t[2] = bad;
    assert.throws(() => native.crossEntropy(logits, t, f(rows), f(rows), rows, cols, -100), RangeError);
    assert.throws(
      () => native.crossEntropyBackward(logits, t, f(rows), f(rows), f(rows * cols), rows, cols, -100),
      RangeError,
    );
  }
  const short = [
    () => native.crossEntropy(f(rows * cols - 1), targets, f(rows), f(rows), rows, cols, -100),
    () => native.crossEntropy(logits, targets.subarray(1), f(rows), f(rows), rows, cols, -100),
    () => native.crossEntropy(logits, targets, f(rows - 1), f(rows), rows, cols, -100),
    () => native.crossEntropy(logits, targets, f(rows), f(rows - 1), rows, cols, -100),
    () =>
      native.crossEntropyBackward(logits, targets, f(rows), f(rows), f(rows * cols - 1), rows, cols, -100),
    () =>
      native.crossEntropyBackward(logits, targets, f(rows), f(rows - 1), f(rows * cols), rows, cols, -100),
    () =>
      native.crossEntropyBackward(logits, targets, f(rows - 1), f(rows), f(rows * cols), rows, cols, -100),
  ];
  const names = ['logits', 'targets', 'losses', 'lse', 'dLogits', 'dLoss', 'lse'];
  short.forEach((fn, i) => {
    assert.throws(fn, (e: Error) => e instanceof RangeError && e.message.includes(names[i]), names[i]);
  });
  assert.throws(() => native.crossEntropy(logits, targets, f(rows), f(rows), -1, cols, -100), RangeError);
  assert.throws(() => native.crossEntropy(logits, targets, f(rows), f(rows), 1.5, cols, -100), RangeError);
  assert.throws(
    () => native.crossEntropy(logits, f(rows) as never, f(rows), f(rows), rows, cols, -100),
    TypeError,
  );
});

// ------------------------------------------------------------------------------------------------
// LayerNorm / RMSNorm

const NORM_SHAPES: [number, number][] = [
  [0, 5],
  [1, 1],
  [7, 5],
  [33, 77],
  [19, 64],
  [64, 768],
];

test('layerNorm and layerNormBackward match the js reference (bias and db null or not)', () => {
  for (const [rows, cols] of NORM_SHAPES) {
    for (const withBias of [true, false]) {
      const r = rng(rows * 7 + cols + (withBias ? 1 : 0));
      const x = randF32(r, rows * cols, -3, 5);
      const w = randF32(r, cols, 0.5, 1.5);
      const b = withBias ? randF32(r, cols) : null;
      const dy = randF32(r, rows * cols);
      const eps = 1e-5;
      const eOut = new Float32Array(rows * cols);
      const eMean = new Float32Array(rows);
      const eRstd = new Float32Array(rows);
      js.layerNorm(x, w, b, eOut, eMean, eRstd, rows, cols, eps);
      const eDx = new Float32Array(rows * cols);
      const eDw = new Float32Array(cols);
      const eDb = new Float32Array(cols);
      js.layerNormBackward(dy, x, w, eMean, eRstd, eDx, eDw, withBias ? eDb : null, rows, cols);
      const what = `layerNorm ${rows}x${cols} bias=${withBias}`;
      const outs = deterministic(() => {
        const out = new Float32Array(rows * cols).fill(9);
        const mean = new Float32Array(rows).fill(9);
        const rstd = new Float32Array(rows).fill(9);
        native.layerNorm(x, w, b, out, mean, rstd, rows, cols, eps);
        const dx = new Float32Array(rows * cols).fill(9);
        const dw = new Float32Array(cols).fill(9);
        const db = new Float32Array(cols).fill(9);
        native.layerNormBackward(dy, x, w, eMean, eRstd, dx, dw, withBias ? db : null, rows, cols);
        return [out, mean, rstd, dx, dw, db];
      }, what);
      assertClose(outs[0], eOut, TOL_NORM, `${what} out`);
      assertClose(outs[1], eMean, TOL_NORM, `${what} mean`);
      assertClose(outs[2], eRstd, TOL_NORM, `${what} rstd`);
      assertClose(outs[3], eDx, TOL_NORM, `${what} dx`);
      assertClose(outs[4], eDw, TOL_NORM_SUM, `${what} dw`);
      if (withBias) assertClose(outs[5], eDb, TOL_NORM_SUM, `${what} db`);
      else
        assert.ok(
          outs[5].every((v) => v === 9),
          `${what}: db untouched when null`,
        );
    }
  }
});

test('rmsNorm and rmsNormBackward match the js reference', () => {
  for (const [rows, cols] of NORM_SHAPES) {
    const r = rng(rows * 13 + cols);
    const x = randF32(r, rows * cols, -2, 3);
    const w = randF32(r, cols, 0.5, 1.5);
    const dy = randF32(r, rows * cols);
    const eps = 1e-6;
    const eOut = new Float32Array(rows * cols);
    const eRstd = new Float32Array(rows);
    js.rmsNorm(x, w, eOut, eRstd, rows, cols, eps);
    const eDx = new Float32Array(rows * cols);
    const eDw = new Float32Array(cols);
    js.rmsNormBackward(dy, x, w, eRstd, eDx, eDw, rows, cols);
    const what = `rmsNorm ${rows}x${cols}`;
    const outs = deterministic(() => {
      const out = new Float32Array(rows * cols).fill(9);
      const rstd = new Float32Array(rows).fill(9);
      native.rmsNorm(x, w, out, rstd, rows, cols, eps);
      const dx = new Float32Array(rows * cols).fill(9);
      const dw = new Float32Array(cols).fill(9);
      native.rmsNormBackward(dy, x, w, eRstd, dx, dw, rows, cols);
      return [out, rstd, dx, dw];
    }, what);
    assertClose(outs[0], eOut, TOL_NORM, `${what} out`);
    assertClose(outs[1], eRstd, TOL_NORM, `${what} rstd`);
    assertClose(outs[2], eDx, TOL_NORM, `${what} dx`);
    assertClose(outs[3], eDw, TOL_NORM_SUM, `${what} dw`);
  }
});

test('norms: NaN propagates to its row, dw sums are overwritten at 0 rows', () => {
  const cols = 6;
  const x = randF32(rng(5), 3 * cols);
  x[cols + 2] = Number.NaN;
  const w = new Float32Array(cols).fill(1);
  const out = new Float32Array(3 * cols);
  const mean = new Float32Array(3);
  const rstd = new Float32Array(3);
  native.layerNorm(x, w, null, out, mean, rstd, 3, cols, 1e-5);
  assert.ok(out.subarray(cols, 2 * cols).every(Number.isNaN), 'NaN row');
  assert.ok(out.subarray(0, cols).every(Number.isFinite) && out.subarray(2 * cols).every(Number.isFinite));
  const dw = new Float32Array(cols).fill(5);
  const db = new Float32Array(cols).fill(5);
  const e = new Float32Array(0);
  native.layerNormBackward(e, e, w, e, e, e, dw, db, 0, cols);
  assert.deepEqual([...dw, ...db], new Array(2 * cols).fill(0));
  dw.fill(5);
  native.rmsNormBackward(e, e, w, e, e, dw, 0, cols);
  assert.deepEqual([...dw], new Array(cols).fill(0));
});

test('norms: short arrays throw RangeError naming the argument', () => {
  const rows = 3;
  const cols = 5;
  const f = (n: number) => new Float32Array(n);
  const n = rows * cols;
  const cases: [string, () => void][] = [
    ['x', () => native.layerNorm(f(n - 1), f(cols), null, f(n), f(rows), f(rows), rows, cols, 1e-5)],
    ['w', () => native.layerNorm(f(n), f(cols - 1), null, f(n), f(rows), f(rows), rows, cols, 1e-5)],
    ['b', () => native.layerNorm(f(n), f(cols), f(cols - 1), f(n), f(rows), f(rows), rows, cols, 1e-5)],
    ['out', () => native.layerNorm(f(n), f(cols), null, f(n - 1), f(rows), f(rows), rows, cols, 1e-5)],
    ['mean', () => native.layerNorm(f(n), f(cols), null, f(n), f(rows - 1), f(rows), rows, cols, 1e-5)],
    ['rstd', () => native.layerNorm(f(n), f(cols), null, f(n), f(rows), f(rows - 1), rows, cols, 1e-5)],
    [
      'dy',
      () =>
        native.layerNormBackward(f(n - 1), f(n), f(cols), f(rows), f(rows), f(n), f(cols), null, rows, cols),
    ],
    [
      'dx',
      () =>
        native.layerNormBackward(f(n), f(n), f(cols), f(rows), f(rows), f(n - 1), f(cols), null, rows, cols),
    ],
    [
      'dw',
      () =>
        native.layerNormBackward(f(n), f(n), f(cols), f(rows), f(rows), f(n), f(cols - 1), null, rows, cols),
    ],
    [
      'db',
      () => native.layerNormBackward(f(n), f(n), f(cols), f(rows), f(rows), f(n), f(cols), f(1), rows, cols),
    ],
    ['x', () => native.rmsNorm(f(n - 1), f(cols), f(n), f(rows), rows, cols, 1e-5)],
    ['rstd', () => native.rmsNorm(f(n), f(cols), f(n), f(rows - 1), rows, cols, 1e-5)],
    ['rstd', () => native.rmsNormBackward(f(n), f(n), f(cols), f(rows - 1), f(n), f(cols), rows, cols)],
    ['dw', () => native.rmsNormBackward(f(n), f(n), f(cols), f(rows), f(n), f(cols - 1), rows, cols)],
  ];
  for (const [name, fn] of cases) {
    assert.throws(fn, (e: Error) => e instanceof RangeError && e.message.includes(name), name);
  }
});

// ------------------------------------------------------------------------------------------------
// Rope

test('rope matches the js reference exactly (forward, inverse, in place)', () => {
  for (const [rows, T, d] of [
    [0, 4, 8],
    [5, 3, 2],
    [37, 7, 34],
    [40, 16, 64],
    [9, 20, 130],
  ]) {
    const r = rng(rows * 3 + d);
    const x = randF32(r, rows * d, -2, 2);
    const half = d / 2;
    const cos = new Float32Array(T * half);
    const sin = new Float32Array(T * half);
    for (let t = 0; t < T; t++)
      for (let i = 0; i < half; i++) {
        const a = t / 10000 ** ((2 * i) / d);
        cos[t * half + i] = Math.cos(a);
        sin[t * half + i] = Math.sin(a);
      }
    for (const inverse of [false, true]) {
      const what = `rope ${rows}x${d} T=${T} inverse=${inverse}`;
      const expected = new Float32Array(rows * d);
      js.rope(x, expected, cos, sin, rows, T, d, inverse);
      const [out, inPlace] = deterministic(() => {
        const out = new Float32Array(rows * d).fill(3);
        native.rope(x, out, cos, sin, rows, T, d, inverse);
        const inPlace = x.slice();
        native.rope(inPlace, inPlace, cos, sin, rows, T, d, inverse);
        return [out, inPlace];
      }, what);
      assertClose(out, expected, EXACT, what);
      assertClose(inPlace, expected, EXACT, `${what} in place`);
    }
  }
});

test('rope: odd d, short tables and short arrays throw RangeError', () => {
  const f = (n: number) => new Float32Array(n);
  assert.throws(() => native.rope(f(15), f(15), f(8), f(8), 3, 4, 5, false), RangeError);
  assert.throws(() => native.rope(f(24), f(24), f(11), f(12), 3, 4, 8, false), /cos is too short/);
  assert.throws(() => native.rope(f(24), f(24), f(12), f(11), 3, 4, 8, false), /sin is too short/);
  assert.throws(() => native.rope(f(23), f(24), f(12), f(12), 3, 4, 8, false), /x is too short/);
  assert.throws(() => native.rope(f(24), f(23), f(12), f(12), 3, 4, 8, false), /out is too short/);
  // rows < T: only the positions used must exist.
  native.rope(f(16), f(16), f(8), f(8), 2, 100, 8, false);
});

// ------------------------------------------------------------------------------------------------
// The portable path, in a child process (the ISA is chosen once per process).

if (!CHILD) {
  test('fused kernels with LETHE_FUSED_ISA=generic (child process)', () => {
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
    assert.match(res.stdout, /kernel generic\)/);
  });
}
