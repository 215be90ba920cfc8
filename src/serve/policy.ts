/**
 * The service policy (`--policy policy.json`, strict zod schema; every key has a default): how
 * requests are batched, which unlearning method and settings run, the stronger settings to try
 * when verification fails, the verification thresholds, and the API's size limits.
 */

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseConfig, readConfigFile } from '../config/load.ts';
import { ConfigError } from '../errors.ts';

/** Utility metrics the verifier can compute (all higher-is-better; see verify.ts). */
export const UTILITY_METRICS = ['retain.prob', 'retain.textProb', 'utility.invPerplexity'] as const;
export type UtilityMetric = (typeof UTILITY_METRICS)[number];

export const PolicySchema = z.strictObject({
  /** Most requests unlearned together. */
  batchSize: z.number().int().positive().default(8),
  /** Longest a queued request waits for its batch to fill (ms). */
  maxWaitMs: z.number().int().nonnegative().default(2000),
  /**
   * An unlearning run's manifest.json (e.g. the run a study selected, runs/<study>/runs/<id>/);
   * its method and arguments become `method` and `settings` (a `settings` given here is merged
   * over them). Relative to the policy file.
   */
  fromManifest: z.string().min(1).optional(),
  method: z.string().min(1).default('grad-diff'),
  /** Method and training arguments (as `lethe unlearn --arg`). */
  /**
   * Method and training arguments (as `lethe unlearn --arg`). The defaults passed verification
   * for a 10-item request on a 2-layer synthetic:tiny target; set them per model (with a study).
   */
  settings: z.record(z.string(), z.unknown()).default({ epochs: 8, lr: 7e-4, alpha: 4, batchSize: 8 }),
  /** Settings merged over `settings`, tried in order when verification fails. */
  escalation: z.array(z.record(z.string(), z.unknown())).default([{ epochs: 12 }]),
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
      minFraction: z.number().min(0).max(1).default(0.75),
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

const ManifestSchema = z.object({ method: z.string().min(1), args: z.record(z.string(), z.unknown()) });

export function loadPolicy(path?: string): Policy {
  if (!path) return PolicySchema.parse({});
  const policy = readConfigFile(PolicySchema, path);
  if (!policy.fromManifest) return policy;
  const file = resolve(dirname(path), policy.fromManifest);
  const raw = readConfigFile(z.unknown(), file);
  const m = parseConfig(ManifestSchema, raw, file);
  const given = JSON.parse(readFileSync(path, 'utf8')) as {
    method?: unknown;
    settings?: Record<string, unknown>;
  };
  if (given.method !== undefined && given.method !== m.method) {
    throw new ConfigError('the policy names a method and a manifest with another', {
      where: `${path}: method`,
      expected: `${m.method} (from ${file}), or no method key`,
      found: String(given.method),
    });
  }
  return { ...policy, method: m.method, settings: { ...m.args, ...(given.settings ?? {}) } };
}
