/**
 * `influence`: one-shot influence-function unlearning. Removing D_f from the training set moves
 * the optimum of Σ_{z∈D_r} ℓ_z; since the trained θ* has ∇(L_r + L_f)(θ*) = 0, one Newton step on
 * the retain objective from θ* is
 *     θ_u = θ* + η · (diag H_r + |D_r|·λ)⁻¹ Σ_{z∈D_f} ∇ℓ_z(θ*),
 * with diag H_r a diagonal curvature estimate of L_r = Σ_{z∈D_r} ℓ̄_z (curvature.ts: empirical
 * Fisher or Hutchinson; negative estimates clamped to 0) and λ a damping per retain example. ℓ̄ is the mean answer NLL per example, the same loss on both sides, so the scales
 * match and η = 1 is the Newton step. Optionally only a localized subset changes (a `layers`
 * regex and/or a SalUn/WAGLE saliency mask); everything else stays bit-for-bit.
 *
 * Memory: the forget gradient and the curvature diagonal (two float32 copies of the selected
 * weights), plus for Hutchinson a saved copy, two gradients and an int8 probe.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import type { Tensor } from '../../tensor/index.ts';
import type { Example } from '../../text/batch.ts';
import { curvatureDiagonal, gradientSum, influenceUpdate, nllObjective } from '../curvature.ts';
import { weightMethod } from '../define.ts';
import { saliencyMasks } from '../saliency.ts';

const InfluenceArgs = z.object({
  /** Curvature estimator: empirical Fisher diagonal (one gradient pass, ≥ 0) or Hutchinson. */
  curvature: z.enum(['fisher', 'hutchinson']).default('fisher'),
  /**
   * λ per retain example: added to the diagonal of the mean retain Hessian H_r/|D_r| (so
   * |D_r|·λ is added to H_r), which keeps one default meaningful across retain-set sizes. It caps
   * the step of weights the retain set barely constrains at η·|g|/(|D_r|·λ). On a memorised model
   * the empirical Fisher is tiny (its gradients vanish) and λ sets most of the step size.
   */
  damping: z.number().nonnegative().default(0.05),
  /** η: 1 is the Newton step; MUSE-style amplification uses more. */
  scale: z.number().default(1),
  /** Hutchinson probes per retain batch. */
  samples: z.number().int().positive().default(1),
  /** Hutchinson finite-difference step ε in Hv ≈ (∇L(θ+εv) − ∇L(θ−εv))/2ε. */
  epsilon: z.number().positive().default(1e-3),
  /** Examples per batch for gradients and curvature (Fisher: per-batch gradients; see curvature.ts). */
  batchSize: z.number().int().positive().default(8),
  /**
   * Estimate the curvature on this many retain examples (a seeded sample) and scale it by
   * |D_r|/n to the full sum; default all.
   */
  retainSample: z.number().int().positive().optional(),
  /** Update only parameters whose HF name matches this regex. */
  layers: z.string().optional(),
  /** Further restrict the update to the top-maskSparsity weights by saliency (saliency.ts). */
  mask: z.enum(['none', 'grad', 'wagle']).default('none'),
  maskSparsity: z.number().gt(0).max(1).default(0.1),
  maxLen: z.number().int().positive().default(256),
});

/** The parameters a `layers` regex selects (all when absent); an empty selection is an error. */
export function selectParams(
  model: CausalLM,
  layers: string | undefined,
  method: string,
): [string, Tensor][] {
  const re = layers ? new RegExp(layers) : null;
  const params = model.namedParameters().filter(([n]) => !re || re.test(n));
  if (params.length === 0) {
    throw new ConfigError(`${method}: no parameter matches layers=${layers}`, {
      hint: `parameter names look like ${model
        .namedParameters()
        .slice(0, 3)
        .map(([n]) => n)
        .join(', ')}`,
    });
  }
  return params;
}

/** Run fn with only `params` recording gradients (the rest of the model frozen), then restore. */
export function withOnlyTrainable<T>(model: CausalLM, params: readonly Tensor[], fn: () => T): T {
  const keep = new Set(params);
  const others = model.parameters().filter((p) => !keep.has(p) && p.requiresGrad);
  for (const p of others) p.requiresGrad = false;
  try {
    return fn();
  } finally {
    for (const p of others) p.requiresGrad = true;
  }
}

/** A seeded sample of n examples (all of them, in order, when n is absent or ≥ the count). */
function sampleOf(examples: readonly Example[], n: number | undefined, seed: number): readonly Example[] {
  if (n === undefined || n >= examples.length) return examples;
  const idx = Array.from({ length: examples.length }, (_, i) => i);
  // Partial Fisher–Yates with a tiny LCG: deterministic and independent of other RNG streams.
  let s = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = i + (s % (examples.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, n).map((i) => examples[i]);
}

export const influence = weightMethod({
  name: 'influence',
  summary:
    'One-shot influence update θ + η·(diag H_r + |D_r|·λ)⁻¹ Σ_f ∇ℓ̄: a damped diagonal Newton step on the retain objective (Fisher or Hutchinson curvature), optionally on a localized weight subset.',
  paper: 'Koh & Liang 2017, arXiv:1703.04730; survey family in ../shared/UNLEARNING.md',
  args: InfluenceArgs,
  needs: { retain: true },
  async apply(ctx) {
    const a = ctx.args;
    const model = ctx.model;
    const named = selectParams(model, a.layers, 'influence');
    const params = named.map(([, t]) => t);
    for (const [n, t] of named) t.name = n;
    const masks =
      a.mask === 'none'
        ? null
        : saliencyMasks(model, ctx.forget, ctx.retain, named, {
            kind: a.mask,
            sparsity: a.maskSparsity,
            batchSize: a.batchSize,
          });
    const t0 = performance.now();
    const wasTraining = model.training;
    model.eval(); // no dropout: every probe must see the same function
    try {
      const { grad, curvature } = withOnlyTrainable(model, params, () => {
        const grad = gradientSum(nllObjective(model, ctx.forget, a.batchSize).terms, params);
        const sample = sampleOf(ctx.retain, a.retainSample, ctx.seed);
        const curvature = curvatureDiagonal(nllObjective(model, sample, a.batchSize), params, {
          kind: a.curvature,
          samples: a.samples,
          epsilon: a.epsilon,
          seed: ctx.seed,
        });
        const up = ctx.retain.length / sample.length;
        if (up !== 1) for (const h of curvature) for (let j = 0; j < h.length; j++) h[j] *= up;
        return { grad, curvature };
      });
      const stats = influenceUpdate(params, grad, curvature, {
        damping: a.damping * ctx.retain.length,
        scale: a.scale,
        masks: masks ? named.map(([n]) => masks.get(n) ?? null) : undefined,
      });
      ctx.log(
        `${a.curvature} curvature, ${stats.updated} weights moved, ‖Δθ‖ ${stats.norm.toExponential(3)}, max |Δθ| ${stats.maxAbs.toExponential(3)}` +
          (stats.negative > 0 ? `, ${stats.negative} negative curvature entries clamped` : '') +
          (stats.singular > 0 ? `, ${stats.singular} left unchanged (no curvature, λ = 0)` : '') +
          `, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
    } finally {
      if (wasTraining) model.train();
    }
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const influenceMethods = [influence];
