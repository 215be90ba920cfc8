/**
 * RMU (Li et al. 2024, WMDP, arXiv:2403.03218): push the residual stream after block ℓ on forget
 * text toward a fixed random direction c·u, and hold it at the frozen model's value on retain
 * text; only the MLP output projections of blocks ℓ−2…ℓ are trained.
 */
import { z } from 'zod';
import { ConfigError, LetheError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { add, affine, IGNORE_INDEX, noGrad, Rng, Tensor } from '../../tensor/index.ts';
import { type Batch, collate } from '../../text/batch.ts';
import { statefulGradientMethod } from '../define.ts';
import { hiddenMse, tokenMask } from '../losses.ts';
import type { MethodContext } from '../types.ts';

type RmuArgs = { layer?: number; steeringCoeff: number; alpha: number };

/** Built once per request by setup: the steered block and the target c·u (1, 1, C). */
interface RmuState {
  layer: number;
  control: Tensor;
}

const lengths = (b: Batch): number[] => {
  const [B, T] = b.targets.shape;
  return Array.from({ length: B }, (_, i) => {
    let last = 0;
    for (let t = 0; t < T; t++) if (b.targets.i32[i * T + t] !== IGNORE_INDEX) last = t + 1;
    return last;
  });
};

/** Residual stream after block `layer` (B, T, C), stopping the forward pass there. */
function hiddenAt(model: CausalLM, batch: Batch, layer: number): Tensor {
  const seen: Tensor[] = [];
  model.forward(batch.inputs, {
    stopAfterLayer: layer,
    residualHook: (l, x) => {
      if (l === layer) seen.push(x);
      return undefined;
    },
  });
  if (seen.length === 0) throw new LetheError(`rmu: the forward pass did not reach block ${layer}`);
  return seen[0];
}

const layerOf = (ctx: MethodContext<RmuArgs>) =>
  ctx.args.layer ?? Math.max(0, Math.floor(ctx.model.numLayers / 2));

export const rmu = statefulGradientMethod<RmuArgs, 'retain' | 'referenceModel', RmuState>({
  name: 'rmu',
  summary:
    "Representation misdirection: steer block ℓ activations on forget text to a random direction c·u while keeping retain activations at the frozen model's; trains only the MLP down-projections of blocks ℓ−2…ℓ.",
  paper: 'Li et al. 2024 (WMDP), arXiv:2403.03218',
  args: z.object({
    /** Block whose output is steered (default: the middle block). */
    layer: z.number().int().nonnegative().optional(),
    /** c as a multiple of the mean residual norm on forget data (6.5 at 7B scale ≈ a few times the norm). */
    steeringCoeff: z.number().positive().default(4),
    alpha: z.number().nonnegative().default(100),
  }),
  needs: { retain: true, referenceModel: true },
  // Only a few small matrices train, so it takes a larger step than whole-model methods.
  trainingDefaults: { lr: 5e-3 },
  setup(ctx) {
    const layer = layerOf(ctx);
    if (layer >= ctx.model.numLayers) {
      throw new ConfigError(`rmu: layer ${layer} is beyond the model's ${ctx.model.numLayers} blocks`);
    }
    const C = ctx.model.hiddenSize;
    const rng = new Rng(ctx.seed + 101);
    const u = Float32Array.from({ length: C }, () => rng.uniform());
    const norm = Math.hypot(...u);
    // Scale with the model: c = steeringCoeff × the mean per-token residual norm on forget data.
    const sample = ctx.forget.slice(0, 16);
    const h = noGrad(() =>
      hiddenAt(
        ctx.model,
        collate(
          sample,
          sample.map((_, i) => i),
        ),
        layer,
      ),
    );
    let total = 0;
    let count = 0;
    const [B, T] = h.shape;
    for (let i = 0; i < B * T; i++) {
      total += Math.hypot(...h.f32.subarray(i * C, (i + 1) * C));
      count++;
    }
    const c = ctx.args.steeringCoeff * (total / count);
    ctx.log(`layer ${layer}, steering norm ${c.toFixed(3)}`);
    return {
      layer,
      control: new Tensor(
        u.map((x) => (c * x) / norm),
        [1, 1, C],
      ),
    };
  },
  trainable(name, ctx) {
    const { layer } = ctx.state;
    const m = /(?:\.h\.|\.layers\.)(\d+)\.mlp\.(c_proj|down_proj)\.weight$/.exec(name);
    return m !== null && Number(m[1]) <= layer && Number(m[1]) >= layer - 2;
  },
  loss(ctx, b) {
    const { layer, control } = ctx.state;
    const hf = hiddenAt(ctx.model, b.forget, layer);
    const forgetTerm = hiddenMse(hf, control, tokenMask(b.forget, lengths(b.forget)));
    const hr = hiddenAt(ctx.model, b.retain, layer);
    const target = noGrad(() => hiddenAt(ctx.reference, b.retain, layer));
    const retainTerm = hiddenMse(hr, target, tokenMask(b.retain, lengths(b.retain)));
    return {
      loss: add(forgetTerm, affine(retainTerm, ctx.args.alpha)),
      logs: { forgetMse: forgetTerm.item(), retainMse: retainTerm.item() },
    };
  },
});

/** The methods this file defines, in the order `lethe methods` lists them (registry.ts reads this list). */
export const rmuMethods = [rmu];
