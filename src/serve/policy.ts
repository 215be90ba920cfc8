/**
 * The service policy (`--policy policy.json`, strict zod schema; every key has a default): how
 * requests are batched, which unlearning method and settings run, the stronger settings to try
 * when verification fails, the verification thresholds, and the API's size limits.
 */
import { z } from 'zod';
import { readConfigFile } from '../config/load.ts';

/** Utility metrics the verifier can compute (all higher-is-better; see verify.ts). */
export const UTILITY_METRICS = ['retain.prob', 'retain.textProb', 'utility.invPerplexity'] as const;
export type UtilityMetric = (typeof UTILITY_METRICS)[number];

export const PolicySchema = z.strictObject({
  /** Most requests unlearned together. */
  batchSize: z.number().int().positive().default(8),
  /** Longest a queued request waits for its batch to fill (ms). */
  maxWaitMs: z.number().int().nonnegative().default(2000),
  method: z.string().min(1).default('grad-diff'),
  /** Method and training arguments (as `lethe unlearn --arg`). */
  settings: z.record(z.string(), z.unknown()).default({ epochs: 5, lr: 1e-3, batchSize: 8 }),
  /** Settings merged over `settings`, tried in order when verification fails. */
  escalation: z.array(z.record(z.string(), z.unknown())).default([{ epochs: 10, lr: 2e-3 }]),
  seed: z.number().int().default(0),
  /** Threads of the unlearning child (1 leaves a core to the API). */
  threads: z.number().int().positive().default(1),
  forgetting: z
    .strictObject({
      /** Forget items' membership AUC against the task's holdout items (LOSS score), at most. */
      maxAuc: z.number().min(0).max(1).default(0.7),
      /** Share of items whose greedy completion still reproduces the answer or personal data, at most. */
      maxLeakRate: z.number().min(0).max(1).default(0),
      /** New tokens of each greedy completion checked for leaks. */
      maxNewTokens: z.number().int().positive().default(32),
    })
    .prefault({}),
  utility: z
    .strictObject({
      metrics: z.array(z.enum(UTILITY_METRICS)).min(1).default(['retain.prob']),
      /** Each metric after unlearning must be at least this fraction of the current version's. */
      minFraction: z.number().min(0).max(1).default(0.9),
      /** Items per metric (the first N, deterministic). */
      maxItems: z.number().int().positive().default(64),
    })
    .prefault({}),
  limits: z
    .strictObject({
      /** Largest request body in bytes (larger: 413). */
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(256 * 1024),
      /** Most items in one request (more: 413). */
      maxItems: z.number().int().positive().default(200),
      /** Longest item string (characters). */
      maxItemChars: z.number().int().positive().default(4000),
      maxNewTokens: z.number().int().positive().default(128),
    })
    .prefault({}),
});
export type Policy = z.infer<typeof PolicySchema>;

export function loadPolicy(path?: string): Policy {
  return path ? readConfigFile(PolicySchema, path) : PolicySchema.parse({});
}
