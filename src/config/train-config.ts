/**
 * The `lethe train` recipe: model shape (for training from scratch), tokenizer size, and the
 * optimisation settings. Keys match the CLI flags in camelCase; CLI flags override the file.
 */
import { z } from 'zod';

const positiveInt = z.number().int().positive();

export const TrainRecipeSchema = z.strictObject({
  /** Model family for training from scratch. */
  arch: z.enum(['gpt2', 'llama']).default('gpt2'),
  layers: positiveInt.default(4),
  hidden: positiveInt.default(256),
  heads: positiveInt.default(4),
  kvHeads: positiveInt.optional(),
  /** Longest sequence the model handles (positions). */
  context: positiveInt.default(256),
  /** BPE vocabulary size when training a tokenizer. */
  vocabSize: z.number().int().min(260).default(4096),
  /** Token block length for plain-text pretraining. */
  seqLen: positiveInt.default(128),
  steps: positiveInt.optional(),
  epochs: positiveInt.optional(),
  batchSize: positiveInt.default(16),
  gradAccum: positiveInt.default(1),
  lr: z.number().positive().default(1e-3),
  schedule: z.enum(['constant', 'linear', 'cosine']).default('cosine'),
  warmup: z.number().int().nonnegative().default(0),
  weightDecay: z.number().nonnegative().default(0.01),
  clip: z.number().nonnegative().default(1),
  seed: z.number().int().default(0),
  /** Share of the examples held out for periodic evaluation (0 = none). */
  evalFraction: z.number().min(0).max(0.5).default(0),
  evalEvery: positiveInt.optional(),
  checkpointEvery: positiveInt.optional(),
  /** Only parameters whose HF name matches this regex are trained. */
  trainOnly: z.string().optional(),
  loraRank: positiveInt.optional(),
  loraAlpha: z.number().positive().optional(),
  loraTargets: z.string().optional(),
  loraDropout: z.number().min(0).max(0.9).default(0),
});
export type TrainRecipe = z.infer<typeof TrainRecipeSchema>;

/**
 * The recipe with every key optional and no defaults filled in: what a recipe file or a set of
 * flags overrides (zod's partial() would still fill defaults and override the caller's own).
 */
export const TrainRecipeOverrides = z.strictObject(
  Object.fromEntries(
    Object.entries(TrainRecipeSchema.shape).map(([k, v]) => {
      const inner = v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType);
      return [k, inner.optional()];
    }),
  ),
) as unknown as z.ZodType<Partial<TrainRecipe>>;
