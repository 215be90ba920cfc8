/**
 * Diagonal curvature of a sum objective L(θ) = Σ_b L_b(θ) and the one-shot influence (Newton)
 * update built on it. Everything here works on a list of loss closures and a list of parameter
 * tensors, not on a CausalLM, so the same code serves the `influence` method, a toy convex
 * problem in tests, or a second-order optimiser that wants a diagonal preconditioner.
 *
 * Promises: every function leaves the parameters' values, `.grad` and `requiresGrad` exactly as
 * it found them (finite-difference probes restore the saved float32 values bit for bit, also
 * when a loss throws); estimates are deterministic for a given seed; `influenceUpdate` writes
 * nothing unless every step is finite.
 */
import { NumericError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { affine, Rng, type Tensor } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { epochBatches } from '../train/batching.ts';
import { meanNll } from './losses.ts';

/** A scalar loss evaluated at the parameters' current values (a fresh graph on every call). */
export type LossTerm = () => Tensor;

/**
 * L(θ) = Σ_b terms[b](θ). `sizes[b]` is how many examples term b sums over (each term is a *sum*
 * of per-example losses, not a mean); only the Fisher estimate uses it (default 1 each).
 */
export interface SumObjective {
  terms: readonly LossTerm[];
  sizes?: readonly number[];
}

/** Run fn with exactly `params` collecting fresh gradients; restore their grad state after. */
function withFreshGrads<T>(params: readonly Tensor[], fn: () => T): T {
  const saved = params.map((p) => ({ grad: p.grad, requiresGrad: p.requiresGrad }));
  try {
    for (const p of params) {
      p.grad = null;
      p.requiresGrad = true;
    }
    return fn();
  } finally {
    params.forEach((p, i) => {
      p.grad = saved[i].grad;
      p.requiresGrad = saved[i].requiresGrad;
    });
  }
}

const gradsOf = (params: readonly Tensor[]): Float32Array[] =>
  params.map((p) => (p.grad ? p.grad.f32.slice() : new Float32Array(p.size)));

/** ∇ Σ_b terms[b] for each parameter (accumulated over the terms by backward). */
export function gradientSum(terms: readonly LossTerm[], params: readonly Tensor[]): Float32Array[] {
  return withFreshGrads(params, () => {
    for (const term of terms) {
      const loss = term();
      if (loss.requiresGrad) loss.backward();
    }
    return gradsOf(params);
  });
}

/**
 * Set the parameters to θ0 + ε·v (v given per parameter), run fn, and put θ0 back exactly.
 * θ0 is the saved float32 copy, so repeated probes never drift.
 */
function atPerturbed<T>(
  params: readonly Tensor[],
  theta0: readonly Float32Array[],
  v: readonly (Float32Array | Int8Array)[],
  eps: number,
  fn: () => T,
): T {
  try {
    params.forEach((p, i) => {
      const w = p.f32;
      const t = theta0[i];
      const d = v[i];
      for (let j = 0; j < w.length; j++) w[j] = t[j] + eps * d[j];
    });
    return fn();
  } finally {
    params.forEach((p, i) => {
      p.f32.set(theta0[i]);
    });
  }
}

/**
 * Hessian-vector product by central differences of gradients:
 * Hv ≈ (∇L(θ+εv) − ∇L(θ−εv)) / 2ε. Exact (up to float32 rounding of θ±εv) when L is quadratic;
 * O(ε²) truncation error otherwise. Two gradient passes; no second-order autograd needed.
 */
export function hessianVectorProduct(
  terms: readonly LossTerm[],
  params: readonly Tensor[],
  v: readonly (Float32Array | Int8Array)[],
  eps: number,
): Float32Array[] {
  if (!(eps > 0))
    throw new NumericError('hessianVectorProduct: epsilon must be positive', { found: String(eps) });
  const theta0 = params.map((p) => p.f32.slice());
  const plus = atPerturbed(params, theta0, v, eps, () => gradientSum(terms, params));
  const minus = atPerturbed(params, theta0, v, -eps, () => gradientSum(terms, params));
  return plus.map((g, i) => {
    const m = minus[i];
    for (let j = 0; j < g.length; j++) g[j] = (g[j] - m[j]) / (2 * eps);
    return g;
  });
}

export interface HutchinsonOptions {
  /** Rademacher probes per term (default 1); each costs two gradient passes over the term. */
  samples?: number;
  /** Finite-difference step ε (default 1e-3). */
  epsilon?: number;
  seed?: number;
}

/**
 * diag(∇²L) by Hutchinson's estimator, E_v[v ⊙ Hv] with Rademacher v (entries ±1), summed over
 * the terms with an independent v for every term and sample (so their off-diagonal noise does
 * not add coherently), then averaged over samples. Each Hv is `hessianVectorProduct`. For a
 * separable (diagonal-Hessian) quadratic one probe is exact. The estimate of a non-convex loss
 * may be negative in places; callers decide how to treat that (see influenceUpdate).
 */
export function hutchinsonDiagonal(
  objective: SumObjective,
  params: readonly Tensor[],
  opts: HutchinsonOptions = {},
): Float32Array[] {
  const samples = opts.samples ?? 1;
  const eps = opts.epsilon ?? 1e-3;
  const rng = new Rng(opts.seed ?? 0);
  // Accumulate in float64: many small signed contributions.
  const acc = params.map((p) => new Float64Array(p.size));
  // Rademacher vectors as int8: a quarter of a float32 copy.
  const v = params.map((p) => new Int8Array(p.size));
  for (let s = 0; s < samples; s++) {
    for (const term of objective.terms) {
      for (const d of v) for (let j = 0; j < d.length; j++) d[j] = (rng.nextU32() & 1) === 0 ? 1 : -1;
      const hv = hessianVectorProduct([term], params, v, eps);
      acc.forEach((a, i) => {
        const h = hv[i];
        const d = v[i];
        for (let j = 0; j < a.length; j++) a[j] += d[j] * h[j];
      });
    }
  }
  return acc.map((a) => Float32Array.from(a, (x) => x / samples));
}

/**
 * Empirical Fisher diagonal of the sum objective, from per-term gradients. With G_b = ∇terms[b]
 * (the gradient of a *sum* over m_b = sizes[b] examples), it returns
 *   F = (N / B) · Σ_b G_b² / m_b,     N = Σ_b m_b, B = number of terms,
 * i.e. N times the mean over terms of the per-example second-moment estimate G_b²/m_b. With one
 * example per term this is exactly Σ_z (∇ℓ_z)², the empirical Fisher of the sum; with larger
 * terms it is unbiased for that when per-example gradients are independent and mean zero (near
 * an optimum) and over-counts their mean otherwise. Always ≥ 0.
 */
export function fisherDiagonal(objective: SumObjective, params: readonly Tensor[]): Float32Array[] {
  const B = objective.terms.length;
  const sizes = objective.sizes ?? objective.terms.map(() => 1);
  const N = sizes.reduce((s, m) => s + m, 0);
  const acc = params.map((p) => new Float64Array(p.size));
  objective.terms.forEach((term, b) => {
    const g = gradientSum([term], params);
    const w = sizes[b] > 0 ? 1 / sizes[b] : 0;
    acc.forEach((a, i) => {
      const gi = g[i];
      for (let j = 0; j < a.length; j++) a[j] += w * gi[j] * gi[j];
    });
  });
  const scale = B > 0 ? N / B : 0;
  return acc.map((a) => Float32Array.from(a, (x) => x * scale));
}

export type CurvatureKind = 'fisher' | 'hutchinson';

export interface CurvatureOptions extends HutchinsonOptions {
  kind: CurvatureKind;
}

/** The diagonal curvature of `objective` by the chosen estimator. */
export function curvatureDiagonal(
  objective: SumObjective,
  params: readonly Tensor[],
  opts: CurvatureOptions,
): Float32Array[] {
  return opts.kind === 'fisher'
    ? fisherDiagonal(objective, params)
    : hutchinsonDiagonal(objective, params, opts);
}

export interface InfluenceOptions {
  /** λ ≥ 0 added to the (clamped) diagonal. */
  damping: number;
  /** η, the step scale (1 = a full Newton step). */
  scale: number;
  /** Element masks per parameter (1 = may change); unmasked entries stay bit-for-bit. */
  masks?: readonly (Float32Array | null)[];
}

export interface InfluenceStats {
  /** Entries changed. */
  updated: number;
  /** Entries left alone because max(h, 0) + λ was 0 (no curvature and no damping). */
  singular: number;
  /** Entries whose curvature estimate was negative (clamped to 0 before damping). */
  negative: number;
  /** ‖Δθ‖₂ and max |Δθ| of the applied step. */
  norm: number;
  maxAbs: number;
}

/**
 * θ ← θ + η · g / (max(h, 0) + λ), elementwise, in float64 and then rounded to float32 once.
 * With g = Σ_{z∈D_f} ∇ℓ_z(θ*) and h the diagonal of the retain objective's Hessian this is one
 * Newton step on the retain objective from θ* (whose full-data gradient is zero: ∇L_r = −g).
 * Negative curvature estimates are clamped to 0 (a Newton step toward a maximum would undo, not
 * remove, the forget data); entries with no curvature and no damping are left unchanged and
 * counted. Throws NumericError (writing nothing) if any step is not finite.
 */
export function influenceUpdate(
  params: readonly Tensor[],
  grad: readonly Float32Array[],
  curvature: readonly Float32Array[],
  opts: InfluenceOptions,
): InfluenceStats {
  const { damping, scale } = opts;
  if (!(damping >= 0))
    throw new NumericError('influenceUpdate: damping must be >= 0', { found: String(damping) });
  const stats: InfluenceStats = { updated: 0, singular: 0, negative: 0, norm: 0, maxAbs: 0 };
  const step = (i: number, j: number): number => {
    if (opts.masks?.[i] && opts.masks[i]![j] === 0) return 0;
    const h = curvature[i][j];
    const denom = Math.max(h, 0) + damping;
    if (denom === 0) return 0;
    return (scale * grad[i][j]) / denom;
  };
  // First pass: check and measure; nothing is written until every step is known to be finite.
  let sq = 0;
  params.forEach((p, i) => {
    for (let j = 0; j < p.size; j++) {
      const h = curvature[i][j];
      const masked = opts.masks?.[i] && opts.masks[i]![j] === 0;
      if (!masked && h < 0) stats.negative++;
      if (!masked && Math.max(h, 0) + damping === 0) stats.singular++;
      const d = step(i, j);
      if (!Number.isFinite(d)) {
        throw new NumericError(`influence step is ${d} at element ${j} of parameter ${p.name ?? i}`, {
          hint: 'raise damping; nothing was changed',
        });
      }
      sq += d * d;
      stats.maxAbs = Math.max(stats.maxAbs, Math.abs(d));
    }
  });
  stats.norm = Math.sqrt(sq);
  params.forEach((p, i) => {
    const w = p.f32;
    for (let j = 0; j < w.length; j++) {
      const d = step(i, j);
      if (d !== 0) {
        w[j] = w[j] + d;
        stats.updated++;
      }
    }
  });
  return stats;
}

/**
 * Σ_z ℓ̄_z over `examples` as a sum objective for a CausalLM: one term per batch, each the batch
 * mean of ℓ̄ (mean answer NLL per example) times the batch size. Batches are collated once, in
 * order (no shuffling), so repeated passes see identical terms.
 */
export function nllObjective(model: CausalLM, examples: readonly Example[], batchSize: number): SumObjective {
  const batches = epochBatches(examples, batchSize, 0, 0, { shuffle: false });
  return {
    terms: batches.map((b) => () => affine(meanNll(model, b), b.indices.length)),
    sizes: batches.map((b) => b.indices.length),
  };
}
