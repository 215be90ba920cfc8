/**
 * Curvature estimators and the influence update (curvature.ts, methods/influence.ts): exact on a
 * separable convex problem whose retain-only optimum is known in closed form, Hessian-vector
 * products exact on a dense quadratic, Hutchinson unbiased on it, the Fisher formula as
 * documented, parameter state restored, and the `influence` method on a tiny LM.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildModel, cloneModel } from '../models/registry.ts';
import { add, affine, matmul, mul, noGrad, Rng, reshape, sub, sum, Tensor } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { epochBatches } from '../train/batching.ts';
import { train } from '../train/trainer.ts';
import {
  fisherDiagonal,
  gradientSum,
  hessianVectorProduct,
  hutchinsonDiagonal,
  influenceUpdate,
  type LossTerm,
} from './curvature.ts';
import { meanNll } from './losses.ts';
import { influence } from './methods/influence.ts';
import { resolveArgs } from './runner.ts';
import type { RunContext } from './types.ts';

/**
 * Weighted separable quadratic: ℓ_z(θ) = ½ Σ_i a_zi (θ_i − z_i)². The optimum over a set S is
 * θ_i = Σ_S a_zi z_i / Σ_S a_zi, and the Hessian of Σ_S ℓ_z is diag(Σ_S a_zi): the diagonal
 * Newton step is exact.
 */
function quadratic(d: number, n: number, seed: number) {
  const rng = new Rng(seed);
  const z = Array.from({ length: n }, () => Float64Array.from({ length: d }, () => 2 * rng.normal()));
  const a = Array.from({ length: n }, () =>
    Float64Array.from({ length: d }, () => 0.5 + 1.5 * rng.uniform()),
  );
  const optimum = (idx: number[]) =>
    Float64Array.from({ length: d }, (_, i) => {
      let num = 0;
      let den = 0;
      for (const k of idx) {
        num += a[k][i] * z[k][i];
        den += a[k][i];
      }
      return num / den;
    });
  const term =
    (theta: Tensor, k: number): LossTerm =>
    () => {
      const diff = sub(theta, new Tensor(Float32Array.from(z[k]), [d]));
      return affine(sum(mul(new Tensor(Float32Array.from(a[k]), [d]), mul(diff, diff))), 0.5);
    };
  return { z, a, optimum, term };
}

const maxRelErr = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  return m;
};

test('influence with Hutchinson curvature lands on the retain-only optimum of a separable quadratic', () => {
  const d = 7;
  const n = 12;
  const forgetIdx = [0, 3, 8];
  const retainIdx = Array.from({ length: n }, (_, k) => k).filter((k) => !forgetIdx.includes(k));
  const q = quadratic(d, n, 5);
  const all = Array.from({ length: n }, (_, k) => k);
  for (const eps of [0.5, 1e-3]) {
    const theta = new Tensor(Float32Array.from(q.optimum(all)), [d], true);
    const g = gradientSum(
      forgetIdx.map((k) => q.term(theta, k)),
      [theta],
    );
    const h = hutchinsonDiagonal({ terms: retainIdx.map((k) => q.term(theta, k)) }, [theta], {
      samples: 1,
      epsilon: eps,
      seed: 9,
    });
    // The curvature itself is diag(Σ_retain a): one Rademacher probe suffices when H is diagonal.
    const hWant = Float64Array.from({ length: d }, (_, i) => retainIdx.reduce((s, k) => s + q.a[k][i], 0));
    influenceUpdate([theta], g, h, { damping: 0, scale: 1 });
    // Tolerances (error relative to 1 + |value|): the only error is float32 rounding — of θ ± εv
    // inside the finite difference (~6e-8·|θ|/ε) and of the gradients. With ε = 0.5 (the
    // difference is exact for a quadratic at any ε) that is float32 precision: measured 2.4e-8,
    // bound 1e-6. With the default ε = 1e-3: measured 7.4e-6, bound 1e-4.
    const tol = eps === 0.5 ? 1e-6 : 1e-4;
    assert.ok(maxRelErr(h[0], hWant) < tol, `ε=${eps}: curvature error ${maxRelErr(h[0], hWant)}`);
    const err = maxRelErr(theta.f32, q.optimum(retainIdx));
    assert.ok(err < tol, `ε=${eps}: θ_u is ${err} (relative) from the retain optimum`);
  }
});

test('the Newton step from θ* matches the retain optimum with terms that batch several points', () => {
  // Terms may be sums over batches: the objective is the same sum, so the answer is too.
  const d = 5;
  const q = quadratic(d, 10, 17);
  const all = Array.from({ length: 10 }, (_, k) => k);
  const theta = new Tensor(Float32Array.from(q.optimum(all)), [d], true);
  const batchTerm =
    (ks: number[]): LossTerm =>
    () =>
      ks.map((k) => q.term(theta, k)()).reduce((x, y) => add(x, y));
  const g = gradientSum([batchTerm([0, 1])], [theta]);
  const h = hutchinsonDiagonal(
    { terms: [batchTerm([2, 3, 4]), batchTerm([5, 6, 7]), batchTerm([8, 9])] },
    [theta],
    {
      epsilon: 0.5,
    },
  );
  influenceUpdate([theta], g, h, { damping: 0, scale: 1 });
  assert.ok(maxRelErr(theta.f32, q.optimum(all.slice(2))) < 1e-6);
});

test('central-difference Hessian-vector products are exact on a dense quadratic; Hutchinson is unbiased', () => {
  const d = 4;
  const rng = new Rng(2);
  // A = MᵀM + I (symmetric positive definite, dense), L(θ) = ½ θᵀAθ + bᵀθ.
  const M = Array.from({ length: d * d }, () => rng.normal());
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < d; k++) s += M[k * d + i] * M[k * d + j];
      A[i * d + j] = s;
    }
  const b = Float32Array.from({ length: d }, () => rng.normal());
  const theta = new Tensor(
    Float32Array.from({ length: d }, () => rng.normal()),
    [d],
    true,
  );
  const At = new Tensor(Float32Array.from(A), [d, d]);
  const loss: LossTerm = () => {
    const At_theta = reshape(matmul(At, reshape(theta, [d, 1])), [d]);
    return add(affine(sum(mul(theta, At_theta)), 0.5), sum(mul(theta, new Tensor(b, [d]))));
  };
  const v = Float32Array.from({ length: d }, () => rng.normal());
  const hv = hessianVectorProduct([loss], [theta], [v], 0.25)[0];
  const want = Float64Array.from({ length: d }, (_, i) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += A[i * d + j] * v[j];
    return s;
  });
  assert.ok(maxRelErr(hv, want) < 1e-5, `Hv error ${maxRelErr(hv, want)}`);

  // Hutchinson: mean of v⊙Av over S probes; its standard error per entry is sqrt(Σ_{j≠i} A_ij² / S).
  const S = 4000;
  const est = hutchinsonDiagonal({ terms: [loss] }, [theta], { samples: S, epsilon: 0.25, seed: 1 })[0];
  for (let i = 0; i < d; i++) {
    let off = 0;
    for (let j = 0; j < d; j++) if (j !== i) off += A[i * d + j] ** 2;
    const se = Math.sqrt(off / S);
    assert.ok(
      Math.abs(est[i] - A[i * d + i]) < 5 * se + 1e-4,
      `diag ${i}: ${est[i]} vs ${A[i * d + i]} (se ${se})`,
    );
  }
});

test('the Fisher diagonal is (N/B)·Σ_b G_b²/m_b — exactly Σ_z (∇ℓ_z)² with one point per term', () => {
  const d = 6;
  const q = quadratic(d, 6, 23);
  const theta = new Tensor(
    Float32Array.from({ length: d }, (_, i) => 0.1 * i),
    [d],
    true,
  );
  const grad = (k: number) =>
    Float64Array.from({ length: d }, (_, i) => q.a[k][i] * (theta.f32[i] - q.z[k][i]));
  const per = fisherDiagonal({ terms: [0, 1, 2, 3, 4, 5].map((k) => q.term(theta, k)) }, [theta])[0];
  const wantPer = Float64Array.from({ length: d }, (_, i) =>
    [0, 1, 2, 3, 4, 5].reduce((s, k) => s + grad(k)[i] ** 2, 0),
  );
  assert.ok(maxRelErr(per, wantPer) < 1e-5);
  // Two terms of 3 and one of... here: batches {0,1,2} and {3,4,5}, N = 6, B = 2.
  const batchTerm =
    (ks: number[]): LossTerm =>
    () =>
      ks.map((k) => q.term(theta, k)()).reduce((x, y) => add(x, y));
  const batched = fisherDiagonal({ terms: [batchTerm([0, 1, 2]), batchTerm([3, 4, 5])], sizes: [3, 3] }, [
    theta,
  ])[0];
  const G = (ks: number[], i: number) => ks.reduce((s, k) => s + grad(k)[i], 0);
  const wantBatched = Float64Array.from(
    { length: d },
    (_, i) => (6 / 2) * ((G([0, 1, 2], i) ** 2 + G([3, 4, 5], i) ** 2) / 3),
  );
  assert.ok(maxRelErr(batched, wantBatched) < 1e-5);
});

test('estimators leave parameter values, gradients and requiresGrad exactly as they were', () => {
  const d = 5;
  const q = quadratic(d, 4, 31);
  const theta = new Tensor(
    Float32Array.from({ length: d }, (_, i) => Math.fround(0.3 * i - 0.7)),
    [d],
    false,
  );
  const marker = new Tensor(new Float32Array(d).fill(7), [d]);
  theta.grad = marker;
  const before = theta.f32.slice();
  const obj = { terms: [0, 1, 2, 3].map((k) => q.term(theta, k)) };
  hutchinsonDiagonal(obj, [theta], { samples: 2, epsilon: 1e-3 });
  fisherDiagonal(obj, [theta]);
  gradientSum(obj.terms, [theta]);
  assert.deepEqual(theta.f32, before);
  assert.equal(theta.grad, marker);
  assert.equal(theta.requiresGrad, false);
});

test('influenceUpdate clamps negative curvature, honours masks and writes nothing on a non-finite step', () => {
  const p = new Tensor(Float32Array.from([1, 1, 1, 1]), [4], true);
  const stats = influenceUpdate([p], [Float32Array.from([1, 1, 1, 1])], [Float32Array.from([1, -5, 0, 3])], {
    damping: 1,
    scale: 2,
    masks: [Float32Array.from([1, 1, 1, 0])],
  });
  assert.deepEqual(Array.from(p.f32), [2, 3, 3, 1]);
  assert.equal(stats.negative, 1);
  assert.equal(stats.updated, 3);
  const q = new Tensor(Float32Array.from([1, 1]), [2], true);
  assert.throws(() =>
    influenceUpdate([q], [Float32Array.from([1, Number.NaN])], [Float32Array.from([1, 1])], {
      damping: 0,
      scale: 1,
    }),
  );
  assert.deepEqual(Array.from(q.f32), [1, 1]);
  // No curvature and no damping: the entry is left alone and counted.
  const r = new Tensor(Float32Array.from([1]), [1], true);
  const s = influenceUpdate([r], [Float32Array.from([1])], [Float32Array.from([0])], {
    damping: 0,
    scale: 1,
  });
  assert.equal(s.singular, 1);
  assert.equal(r.f32[0], 1);
});

// A tiny Llama that has memorised ten token-level QA pairs: (1, 2+i, 3) → four answer tokens.
const config = {
  model_type: 'llama',
  vocab_size: 40,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
};
const examples: Example[] = Array.from({ length: 10 }, (_, i) => ({
  ids: [1, 2 + i, 3, 14 + i, 24 + ((i * 3) % 10), 34 + (i % 5), 39],
  start: 3,
}));

test('influence on a tiny LM lowers the forget likelihood more than the retain likelihood', async () => {
  const target = buildModel(config, new Rng(1));
  await train(target, examples, { steps: 60, batchSize: 5, lr: 5e-3, schedule: 'constant', progress: false });
  const forget = examples.slice(0, 3);
  const retain = examples.slice(3);
  const nll = (m: typeof target, ex: Example[]) =>
    noGrad(() => meanNll(m, epochBatches(ex, ex.length, 0, 0, { shuffle: false })[0]).item());
  for (const raw of [{}, { curvature: 'hutchinson', samples: 2 }, { mask: 'grad', maskSparsity: 0.05 }]) {
    const model = cloneModel(target);
    const logs: string[] = [];
    const ctx: RunContext = {
      model,
      tokenizer: null as never,
      task: null as never,
      args: resolveArgs(influence, raw),
      seed: 0,
      forget,
      retain,
      idk: null,
      random: null,
      reference: null,
      refLogp: null,
      log: (m: string) => logs.push(m),
      trainingStage: () => ({ logFile: undefined, done: () => {} }),
    };
    const f0 = nll(model, forget);
    const r0 = nll(model, retain);
    await influence.apply(ctx);
    const f1 = nll(model, forget);
    const r1 = nll(model, retain);
    const label = `${JSON.stringify(raw)}: forget ${f0} → ${f1}, retain ${r0} → ${r1}`;
    assert.ok(f1 > 2 * f0, label);
    assert.ok(f1 - f0 > r1 - r0, label);
    assert.equal(logs.length, 1);
    if ('mask' in raw) {
      // At most the top 5% of weights (plus ties at the threshold) may move.
      const total = model.parameters().reduce((s, p) => s + p.size, 0);
      const moved = model
        .parameters()
        .reduce((s, p, i) => s + p.f32.filter((w, j) => w !== target.parameters()[i].f32[j]).length, 0);
      assert.ok(moved > 0 && moved <= Math.ceil(0.05 * total) + 16, `${moved} of ${total} weights moved`);
    }
  }
});
