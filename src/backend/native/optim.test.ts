/**
 * Native AdamW against the js reference backend. Each step starts both backends from the same
 * (p, m, v) state — the js trajectory — so the comparison measures one step's rounding, not the
 * drift of two trajectories; a second test runs both independently for 50 steps and checks
 * they stay within 50 ulp(p) + 1e-4·lr·50. Covers sizes 0, 1, odd and larger than a parallel chunk, several
 * hyperparameter sets (weight decay on and off), zero, huge and tiny gradients, NaN gradients,
 * 1 and 2 threads with bit-identical results, and argument checking.
 *
 * Tolerance per element (native works in float32 with float32 scalars, js in double):
 *   m: 3·2⁻²³·(β1|m₀| + (1−β1)|g|);   v: 3·2⁻²³·(β2·v₀ + (1−β2)g²);
 *   p: 3·2⁻²³·|p₀(1 − lr·wd)| + 6·2⁻²³·|Δ| + (lr/(1−β1^t))·errₘ/(√v̂ + eps)
 * where Δ is the js update and errₘ the bound on m (m's rounding carried through the update).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rng } from '../../../test/helpers/kernel-checks.ts';
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

interface Hyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  wd: number;
}

const HYPERS: Hyper[] = [
  { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, wd: 0.01 },
  { lr: 0.1, beta1: 0.5, beta2: 0.9, eps: 1e-6, wd: 0 },
  { lr: 3e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, wd: 0.1 },
];

/** Gradients: mostly O(1), with zeros, huge (1e3) and tiny (1e-12) values; optional NaNs. */
function grads(r: () => number, n: number, nan: boolean): Float32Array {
  const g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i % 17 === 3) g[i] = 0;
    else if (i % 19 === 4) g[i] = (r() - 0.5) * 2e3;
    else if (i % 23 === 5) g[i] = (r() - 0.5) * 2e-12;
    else g[i] = r() * 2 - 1;
  }
  if (nan && n > 40) g[40] = Number.NaN;
  return g;
}

function assertStep(
  what: string,
  h: Hyper,
  step: number,
  before: Float32Array[],
  g: Float32Array,
  ref: Float32Array[],
  got: Float32Array[],
): void {
  const [p0, m0, v0] = before;
  const [pr, mr, vr] = ref;
  const [pg, mg, vg] = got;
  const bc1 = 1 - h.beta1 ** step;
  const bc2 = 1 - h.beta2 ** step;
  const decay = 1 - h.lr * h.wd;
  for (let i = 0; i < p0.length; i++) {
    if (Number.isNaN(g[i])) {
      assert.ok(
        Number.isNaN(pg[i]) && Number.isNaN(mg[i]) && Number.isNaN(vg[i]),
        `${what}[${i}]: NaN gradient`,
      );
      continue;
    }
    const errM = 3 * ULP * (h.beta1 * Math.abs(m0[i]) + (1 - h.beta1) * Math.abs(g[i]));
    const errV = 3 * ULP * (h.beta2 * v0[i] + (1 - h.beta2) * g[i] * g[i]);
    const update = Math.abs(p0[i] * decay - pr[i]);
    const denom = Math.sqrt(vr[i] / bc2) + h.eps;
    const errP = 3 * ULP * Math.abs(p0[i] * decay) + 6 * ULP * update + ((h.lr / bc1) * errM) / denom + 1e-45;
    assert.ok(Math.abs(mg[i] - mr[i]) <= errM + 1e-45, `${what} m[${i}]: ${mg[i]} vs ${mr[i]}`);
    assert.ok(Math.abs(vg[i] - vr[i]) <= errV + 1e-45, `${what} v[${i}]: ${vg[i]} vs ${vr[i]}`);
    assert.ok(Math.abs(pg[i] - pr[i]) <= errP, `${what} p[${i}]: ${pg[i]} vs ${pr[i]} (bound ${errP})`);
  }
}

test('adamw: one step from the same state matches js, 1 and 2 threads, bit-identical', () => {
  const r = rng(61);
  for (const h of HYPERS) {
    for (const n of [0, 1, 7, 100_003]) {
      let state = [
        Float32Array.from({ length: n }, () => r() * 4 - 2),
        new Float32Array(n),
        new Float32Array(n),
      ];
      for (let step = 1; step <= 5; step++) {
        const g = grads(r, n, step === 3);
        const ref = state.map((a) => a.slice());
        js.adamw(ref[0], g, ref[1], ref[2], h.lr, h.beta1, h.beta2, h.eps, h.wd, step);
        let first: Float32Array[] | null = null;
        for (const threads of [1, 2, 2]) {
          const got = state.map((a) => a.slice());
          withThreads(threads, () =>
            native.adamw(got[0], g, got[1], got[2], h.lr, h.beta1, h.beta2, h.eps, h.wd, step),
          );
          const what = `adamw lr=${h.lr} n=${n} step ${step} threads ${threads}`;
          assertStep(what, h, step, state, g, ref, got);
          if (first === null) first = got;
          else {
            const prev = first;
            got.forEach((a, k) => {
              assert.ok(bytes(a).equals(bytes(prev[k])), `${what}: bits differ`);
            });
          }
        }
        // Continue from the js state, NaN elements reset so later steps stay finite.
        for (const a of ref) for (let i = 0; i < n; i++) if (Number.isNaN(a[i])) a[i] = 0;
        state = ref;
      }
    }
  }
});

test('adamw: independent trajectories over 50 steps stay within steps·(ulp(p) + 1e-4·lr) of js', () => {
  const r = rng(62);
  const n = 4099;
  for (const h of HYPERS) {
    const p0 = Float32Array.from({ length: n }, () => r() * 2 - 1);
    const a = [p0.slice(), new Float32Array(n), new Float32Array(n)];
    const b = [p0.slice(), new Float32Array(n), new Float32Array(n)];
    for (let step = 1; step <= 50; step++) {
      const g = grads(r, n, false);
      native.adamw(a[0], g, a[1], a[2], h.lr, h.beta1, h.beta2, h.eps, h.wd, step);
      js.adamw(b[0], g, b[1], b[2], h.lr, h.beta1, h.beta2, h.eps, h.wd, step);
    }
    let worst = 0;
    // Each step rounds p on both sides (up to an ulp of |p| apart) and the update to a few ulp.
    for (let i = 0; i < n; i++)
      worst = Math.max(worst, Math.abs(a[0][i] - b[0][i]) - 50 * ULP * Math.abs(b[0][i]));
    assert.ok(worst <= 1e-4 * h.lr * 50, `adamw lr=${h.lr}: trajectories drift by ${worst} beyond 50 ulp(p)`);
  }
});

test('adamw: zero gradient at step 1 leaves p·(1 − lr·wd) and m = v = 0', () => {
  const p = Float32Array.of(1, -2, 0.5);
  const m = new Float32Array(3);
  const v = new Float32Array(3);
  native.adamw(p, new Float32Array(3), m, v, 0.1, 0.9, 0.999, 1e-8, 0.5, 1);
  assert.deepEqual(
    [...p],
    [1, -2, 0.5].map((x) => Math.fround(x * Math.fround(0.95))),
  );
  assert.deepEqual([...m, ...v], [0, 0, 0, 0, 0, 0]);
});

test('adamw: a too-short array or a bad step throws and writes nothing', () => {
  const f = (n: number) => new Float32Array(n).fill(3);
  const p = f(4);
  const args = [0.1, 0.9, 0.999, 1e-8, 0.01] as const;
  assert.throws(() => native.adamw(p, f(3), f(4), f(4), ...args, 1), {
    name: 'RangeError',
    message: /adamw: g has 3/,
  });
  assert.throws(() => native.adamw(p, f(4), f(2), f(4), ...args, 1), {
    name: 'RangeError',
    message: /m has 2/,
  });
  assert.throws(() => native.adamw(p, f(4), f(4), f(1), ...args, 1), {
    name: 'RangeError',
    message: /v has 1/,
  });
  assert.throws(() => native.adamw(p, f(4), f(4), f(4), ...args, 0), { name: 'RangeError', message: /step/ });
  assert.throws(() => native.adamw(p, f(4), f(4), f(4), ...args, 1.5), {
    name: 'RangeError',
    message: /step/,
  });
  assert.throws(
    () => native.adamw(p, f(4), f(4), f(4), 0.1, 0.9, 0.999, 1e-8, undefined as unknown as number, 1),
    {
      name: 'TypeError',
      message: /weightDecay/,
    },
  );
  assert.deepEqual([...p], [3, 3, 3, 3]);
});
