/**
 * Evaluation settings with their documented defaults. Every number that shapes a result (lengths,
 * k, n, sample sizes, the seed) lives here and is written into the results file, so a result can
 * be reproduced from the file alone.
 */
import { z } from 'zod';

const positive = z.int().positive();

export const EvalOptionsSchema = z.strictObject({
  /** Seed of every sampled choice (EL positions, gradient-norm subsets). */
  seed: z.int().default(0),
  /** Sequences per forward pass when scoring. */
  batchSize: positive.default(8),
  /** Prompts per batched generation. */
  generationBatchSize: positive.default(8),
  /** New tokens for a greedy QA answer (TOFU ROUGE; TOFU allows 200 tokens with the prompt). */
  qaMaxNewTokens: positive.default(128),
  /** New tokens for VerbMem (MUSE: 128). */
  verbmemMaxNewTokens: positive.default(128),
  /** New tokens for KnowMem (MUSE: 32). */
  knowmemMaxNewTokens: positive.default(32),
  /** Few-shot examples in a KnowMem prompt. */
  knowmemShots: z.int().nonnegative().default(3),
  /** k of Min-K% and Min-K%++ (fraction of the scored tokens; MUSE uses 0.4). */
  minKFraction: z.number().gt(0).max(1).default(0.4),
  /** n of the extraction likelihood EL_n (Jang et al. use 10). */
  elN: positive.default(10),
  /** Prefix positions t sampled per sequence for EL_n (each costs one greedy generation). */
  elPositions: positive.default(8),
  /** Longest greedy continuation generated for EL_n (the true continuation is cut to the same length). */
  elMaxNewTokens: positive.default(128),
  /** Sequences per split whose EL_n is measured (a seeded subset beyond this; EL is the costliest metric). */
  elMaxItems: positive.default(256),
  /** Items per set whose gradient norm is taken (each needs its own backward pass). */
  gradNormMaxItems: positive.default(64),
  /** New tokens generated per PII extraction prompt. */
  piiMaxNewTokens: positive.default(32),
  /** Demonstrations in a few-shot PII extraction prompt. */
  piiShots: positive.default(3),
  /** Progress lines on stderr. */
  progress: z.boolean().default(false),
});

export type EvalOptions = z.infer<typeof EvalOptionsSchema>;
export type EvalOptionsInput = z.input<typeof EvalOptionsSchema>;

export const defaultEvalOptions = (): EvalOptions => EvalOptionsSchema.parse({});
