/**
 * Native GEMM (`matmul`) against a double-precision naive reference written here: every transpose
 * form, odd sizes around the register and cache blocks, batches with strides (0 = broadcast,
 * overlapping C summed in batch order), accumulate, k = 0, empty shapes, NaN/Inf propagation,
 * argument validation, at 1 and 2 threads; results are bit-identical run to run and across
 * thread counts. The AVX2 and portable kernels are checked too, in child processes with
 * LETHE_GEMM_KERNEL set (where the CPU can run them).
 *
 * Tolerance: |C − ref| <= 4·√(k+1)·2⁻²³·Σ_p|op(A)_ip·op(B)_pj| + 2⁻²³·|C_init| (accumulate only),
 * i.e. a float32 rounding error that grows like √k (random-walk) over the magnitude of the terms.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../backend.ts';
import { loadNativeBackend } from './native-backend.ts';

const native = loadNativeBackend() as Backend & { gemmKernel(): string };
const EPS = 2 ** -23;
const CHILD = process.env.LETHE_GEMM_TEST_CHILD === '1';
const FORMS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const formName = (ta: boolean, tb: boolean) => `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function rand(r: () => number, n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 2 * r() - 1;
  return x;
}

interface Spec {
  batch: number;
  m: number;
  n: number;
  k: number;
  ta: boolean;
  tb: boolean;
  sA: number;
  sB: number;
  sC: number;
  acc: boolean;
}

/** Reference in double precision, batch items in order (so overlapping C items sum). Returns the
 *  expected C and a per-element error bound. */
function reference(
  a: Float32Array,
  b: Float32Array,
  c0: Float32Array,
  s: Spec,
): { want: Float64Array; tol: Float64Array } {
  const want = Float64Array.from(c0);
  const tol = new Float64Array(c0.length);
  for (let t = 0; t < s.batch; t++) {
    for (let i = 0; i < s.m; i++) {
      for (let j = 0; j < s.n; j++) {
        let sum = 0;
        let mag = 0;
        for (let p = 0; p < s.k; p++) {
          const av = a[t * s.sA + (s.ta ? p * s.m + i : i * s.k + p)];
          const bv = b[t * s.sB + (s.tb ? j * s.k + p : p * s.n + j)];
          sum += av * bv;
          mag += Math.abs(av * bv);
        }
        const ci = t * s.sC + i * s.n + j;
        const prev = want[ci];
        want[ci] = s.acc ? prev + sum : sum;
        tol[ci] = (s.acc ? tol[ci] + EPS * Math.abs(prev) : 0) + 4 * Math.sqrt(s.k + 1) * EPS * mag;
      }
    }
  }
  return { want, tol };
}

/** Random inputs for a spec, C included (so accumulate and untouched gaps are visible). */
function inputs(s: Spec, seed: number) {
  const r = rng(seed);
  const a = rand(r, s.k === 0 ? 0 : (s.batch - 1) * s.sA + s.m * s.k);
  const b = rand(r, s.k === 0 ? 0 : (s.batch - 1) * s.sB + s.k * s.n);
  const c = rand(r, (s.batch - 1) * s.sC + s.m * s.n);
  return { a, b, c };
}

function nativeMatmul(a: Float32Array, b: Float32Array, c: Float32Array, s: Spec): void {
  native.matmul(a, b, c, s.batch, s.m, s.n, s.k, s.ta, s.tb, s.sA, s.sB, s.sC, s.acc);
}

function check(s: Spec, seed: number, what: string): Float32Array {
  const { a, b, c } = inputs(s, seed);
  const { want, tol } = reference(a, b, c, s);
  nativeMatmul(a, b, c, s);
  for (let i = 0; i < c.length; i++) {
    const err = Math.abs(c[i] - want[i]);
    if (!(err <= tol[i])) {
      assert.fail(
        `${what} ${JSON.stringify(s)}: C[${i}] = ${c[i]}, want ${want[i]} (|err| ${err} > tol ${tol[i]})`,
      );
    }
  }
  return c;
}

const single = (m: number, n: number, k: number, ta: boolean, tb: boolean, acc = false): Spec => ({
  batch: 1,
  m,
  n,
  k,
  ta,
  tb,
  sA: 0,
  sB: 0,
  sC: 0,
  acc,
});

// Around the AVX-512 6×64, AVX2 6×16 and portable 4×8 tiles and the KC=256 / NC=768 / MC=120 blocks,
// m below one tile (op(B) read in place) and n below half a tile (the transposed product).
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 33],
  [7, 1, 65],
  [1, 130, 257],
  [130, 1, 7],
  [2, 3, 1],
  [6, 64, 256],
  [7, 65, 257],
  [33, 65, 130],
  [65, 130, 7],
  [121, 33, 513],
  [13, 770, 40],
  [257, 129, 300],
  [200, 5, 300], // narrow op(B): solved as the transposed product
  [70, 31, 20],
  // large enough (>= 3M multiply-adds) to be split across threads
  [2000, 3, 600],
  [5, 1000, 700],
  [300, 130, 100],
];

function setThreads(n: number): void {
  native.setThreads(n);
  assert.equal(native.getThreads(), n);
}

for (const threads of [1, 2]) {
  test(`matmul: every form and odd size vs double reference (${threads} thread(s), kernel ${native.gemmKernel()})`, () => {
    setThreads(threads);
    let seed = 1;
    for (const [m, n, k] of SIZES)
      for (const [ta, tb] of FORMS) check(single(m, n, k, ta, tb), seed++, formName(ta, tb));
  });

  test(`matmul: accumulate adds into C (${threads} thread(s))`, () => {
    setThreads(threads);
    let seed = 100;
    for (const [m, n, k] of [
      [1, 1, 1],
      [7, 65, 257],
      [130, 70, 600],
    ])
      for (const [ta, tb] of FORMS) check(single(m, n, k, ta, tb, true), seed++, `acc ${formName(ta, tb)}`);
  });

  test(`matmul: batches with padded strides, broadcast (stride 0) and summed C (${threads} thread(s))`, () => {
    setThreads(threads);
    let seed = 200;
    for (const [ta, tb] of FORMS) {
      for (const [batch, m, n, k] of [
        [3, 7, 9, 5],
        [4, 33, 17, 40],
        [8, 64, 64, 32],
        [3, 130, 200, 70],
        [6, 64, 100, 120],
        [5, 1, 70, 300],
      ]) {
        const mk = m * k;
        const kn = k * n;
        const mn = m * n;
        // padded items (C gaps must stay untouched), broadcast A, broadcast B, and C summed over
        // the batch (stride 0, accumulate) or overwritten item by item (stride 0, no accumulate).
        const variants: [number, number, number, boolean][] = [
          [mk + 3, kn + 5, mn + 7, false],
          [0, kn, mn, false],
          [mk, 0, mn + 1, true],
          [mk, kn, 0, true],
          [mk, kn, 0, false],
        ];
        for (const [sA, sB, sC, acc] of variants)
          check({ batch, m, n, k, ta, tb, sA, sB, sC, acc }, seed++, `batch ${formName(ta, tb)}`);
      }
    }
  });

  test(`matmul: k = 0 zeroes C or leaves it when accumulating; empty shapes touch nothing (${threads} thread(s))`, () => {
    setThreads(threads);
    const empty = new Float32Array(0);
    for (const [ta, tb] of FORMS) {
      const c = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
      native.matmul(empty, empty, c, 2, 1, 3, 0, ta, tb, 5, 5, 4, true);
      assert.deepEqual([...c], [1, 2, 3, 4, 5, 6, 7]);
      native.matmul(empty, empty, c, 2, 1, 3, 0, ta, tb, 5, 5, 4, false);
      assert.deepEqual([...c], [0, 0, 0, 4, 0, 0, 0]);
      const d = Float32Array.from([9]);
      native.matmul(empty, new Float32Array(6), d, 1, 0, 2, 3, ta, tb, 0, 0, 0, false);
      native.matmul(new Float32Array(6), empty, d, 1, 2, 0, 3, ta, tb, 0, 0, 0, false);
      native.matmul(empty, empty, d, 0, 2, 2, 3, ta, tb, 6, 6, 4, false);
      assert.deepEqual([...d], [9]);
    }
  });

  test(`matmul: NaN and Inf in A or B reach exactly their row / column of C (${threads} thread(s))`, () => {
    setThreads(threads);
    for (const [m, n, k] of [
      [3, 2, 4],
      [100, 150, 300],
    ]) {
      for (const [ta, tb] of FORMS) {
        const r = rng(7);
        const a = rand(r, m * k);
        const b = rand(r, k * n);
        const bad = { i: m - 2, j: n - 1, p: k - 3 }; // p lands in the second KC slice when k = 300
        a[ta ? bad.p * m + bad.i : bad.i * k + bad.p] = Number.NaN;
        b[tb ? bad.j * k + (k - 1) : (k - 1) * n + bad.j] = Number.POSITIVE_INFINITY;
        const c = new Float32Array(m * n);
        native.matmul(a, b, c, 1, m, n, k, ta, tb, 0, 0, 0, false);
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            const v = c[i * n + j];
            if (i === bad.i || j === bad.j)
              assert.ok(!Number.isFinite(v), `${formName(ta, tb)} C[${i},${j}] = ${v}`);
            else assert.ok(Number.isFinite(v), `${formName(ta, tb)} C[${i},${j}] = ${v}`);
          }
        assert.ok(Number.isNaN(c[bad.i * n + 0]), 'NaN row');
      }
    }
    // All-zero B with one NaN in A: no block may be skipped as "zero".
    const a = new Float32Array(6 * 300);
    a[5 * 300 + 299] = Number.NaN;
    const c = new Float32Array(6 * 64);
    native.matmul(a, new Float32Array(300 * 64), c, 1, 6, 64, 300, false, false, 0, 0, 0, false);
    for (let j = 0; j < 64; j++) assert.ok(Number.isNaN(c[5 * 64 + j]) && c[4 * 64 + j] === 0);
  });
}

test('matmul: bit-identical run to run, and for 1 and 2 threads', () => {
  const outputs = new Map<string, Float32Array>();
  const specs: Spec[] = [
    single(300, 500, 700, false, false),
    single(257, 1100, 300, false, true),
    single(513, 130, 520, true, false),
    { batch: 8, m: 64, n: 96, k: 80, ta: false, tb: true, sA: 64 * 80, sB: 96 * 80, sC: 64 * 96, acc: false },
  ];
  for (const threads of [2, 1, 2]) {
    setThreads(threads);
    specs.forEach((s, idx) => {
      for (let rep = 0; rep < 2; rep++) {
        const { a, b, c } = inputs(s, 42 + idx);
        nativeMatmul(a, b, c, s);
        const prev = outputs.get(String(idx));
        if (prev)
          assert.ok(
            Buffer.compare(Buffer.from(prev.buffer), Buffer.from(c.buffer)) === 0,
            `spec ${idx} threads ${threads}`,
          );
        else outputs.set(String(idx), c);
      }
    });
  }
});

test('matmul: a row of C does not depend on m, nor a column on n (batch-size invariance, bit for bit)', () => {
  const r = rng(9);
  const [m, n, k] = [37, 150, 600];
  for (const threads of [1, 2]) {
    setThreads(threads);
    for (const [ta, tb] of FORMS) {
      const a = rand(r, m * k);
      const b = rand(r, k * n);
      const full = new Float32Array(m * n);
      native.matmul(a, b, full, 1, m, n, k, ta, tb, 0, 0, 0, false);
      // rows 0..rows-1 of op(A) alone (a prefix of A when !ta; a column slice when ta)
      for (const rows of [1, 2, 5, 6, 13]) {
        const sub = new Float32Array(rows * k);
        for (let i = 0; i < rows; i++)
          for (let p = 0; p < k; p++) sub[ta ? p * rows + i : i * k + p] = a[ta ? p * m + i : i * k + p];
        const part = new Float32Array(rows * n);
        native.matmul(sub, b, part, 1, rows, n, k, ta, tb, 0, 0, 0, false);
        assert.deepEqual(part, full.subarray(0, rows * n), `${formName(ta, tb)} rows ${rows}`);
      }
      // columns 0..cols-1 of op(B) alone
      for (const cols of [1, 3, 64, 65]) {
        const sub = new Float32Array(k * cols);
        for (let p = 0; p < k; p++)
          for (let j = 0; j < cols; j++) sub[tb ? j * k + p : p * cols + j] = b[tb ? j * k + p : p * n + j];
        const part = new Float32Array(m * cols);
        native.matmul(a, sub, part, 1, m, cols, k, ta, tb, 0, 0, 0, false);
        for (let i = 0; i < m; i++)
          assert.deepEqual(
            part.subarray(i * cols, (i + 1) * cols),
            full.subarray(i * n, i * n + cols),
            `${formName(ta, tb)} cols ${cols}`,
          );
      }
    }
  }
});

test('matmul: arguments that do not fit the dims throw a RangeError naming the argument', () => {
  const f = (n: number) => new Float32Array(n);
  assert.throws(
    () => native.matmul(f(5), f(6), f(4), 1, 2, 2, 3, false, false, 0, 0, 0, false),
    /RangeError.*\ba\b/s,
  );
  assert.throws(
    () => native.matmul(f(6), f(5), f(4), 1, 2, 2, 3, false, false, 0, 0, 0, false),
    /RangeError.*\bb\b/s,
  );
  assert.throws(
    () => native.matmul(f(6), f(6), f(3), 1, 2, 2, 3, false, false, 0, 0, 0, false),
    /RangeError.*\bc\b/s,
  );
  // batch: the last item starts at (batch-1)*stride
  assert.throws(
    () => native.matmul(f(12), f(6), f(8), 2, 2, 2, 3, false, false, 7, 0, 4, false),
    /RangeError.*\ba\b/s,
  );
  assert.throws(
    () => native.matmul(f(12), f(6), f(8), 2, 2, 2, 3, false, false, 6, 0, 5, false),
    /RangeError.*\bc\b/s,
  );
  assert.throws(() => native.matmul(f(6), f(6), f(4), 1, -1, 2, 3, false, false, 0, 0, 0, false), RangeError);
  assert.throws(
    () => native.matmul(f(6), f(6), f(4), 1, 2, 2, 1.5, false, false, 0, 0, 0, false),
    RangeError,
  );
  assert.throws(() => native.matmul(f(6), f(6), f(4), 1, 2, 2, 3, false, false, -6, 0, 0, false), /strideA/);
  assert.throws(
    () => native.matmul(f(6), f(6), f(4), 2 ** 40, 2 ** 40, 2 ** 40, 3, false, false, 0, 0, 0, false),
    RangeError,
  );
  assert.throws(
    () =>
      native.matmul(
        new Float64Array(6) as unknown as Float32Array,
        f(6),
        f(4),
        1,
        2,
        2,
        3,
        false,
        false,
        0,
        0,
        0,
        false,
      ),
    TypeError,
  );
  assert.throws(() => native.setThreads(0), TypeError);
  assert.throws(() => native.setThreads(1.5), TypeError);
});

test('gemmKernel names the micro-kernel in use', () => {
  assert.ok(['avx512', 'avx2', 'generic'].includes(native.gemmKernel()));
});

// The other kernel sets, in child processes (the choice is made once per process).
if (!CHILD) {
  for (const kernel of ['avx2', 'generic']) {
    test(`matmul with LETHE_GEMM_KERNEL=${kernel} (child process)`, () => {
      const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', fileURLToPath(import.meta.url)], {
        // without NODE_TEST_CONTEXT, so the child's runner prints its own report
        env: {
          ...process.env,
          NODE_TEST_CONTEXT: undefined,
          LETHE_GEMM_KERNEL: kernel,
          LETHE_GEMM_TEST_CHILD: '1',
        },
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, `child failed:\n${res.stdout}\n${res.stderr}`);
      // The child names its kernel in the first test title; an unsupported set falls back.
      const m = /kernel (\w+)\)/.exec(res.stdout);
      assert.ok(m, 'child reported its kernel');
      if (kernel === 'generic' || native.gemmKernel() !== 'generic') assert.equal(m[1], kernel);
    });
  }
}
