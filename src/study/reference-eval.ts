/**
 * The target's and oracle's evaluation, done once per study and cached on disk under
 * <cache>/evals/<key>.json, where the key hashes both model hashes, the task, the metric names, the
 * evaluation options and the code version (identity.ts). Every run of the study reuses these
 * results instead of re-evaluating the two references (which used to dominate a study's cost).
 * A file that does not validate is recomputed; writes are atomic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { MetricResultSchema, ModelInfoSchema } from '../eval/results.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { type EvalIdentity, evalKey } from './identity.ts';

const FORMAT = 'lethe-reference-eval/1';

const Example = z.strictObject({
  split: z.enum(['forget', 'retain']),
  question: z.string(),
  answer: z.string(),
  generated: z.string(),
});

const Role = z.strictObject({
  info: ModelInfoSchema,
  metrics: z.record(z.string(), MetricResultSchema),
  examples: z.array(Example),
});

const ReferenceEvalSchema = z.strictObject({
  format: z.literal(FORMAT),
  key: z.string(),
  identity: z.record(z.string(), z.json()),
  target: Role,
  oracle: Role,
  /** Wall time the evaluation took when it was computed. */
  seconds: z.number().nonnegative(),
});
export type ReferenceEval = z.infer<typeof ReferenceEvalSchema>;
export type ReferenceRole = z.infer<typeof Role>;

export function referenceEvalPath(cacheDir: string, identity: EvalIdentity): string {
  return join(cacheDir, 'evals', `${evalKey(identity)}.json`);
}

/** The cached evaluation for this identity, or null (missing or not valid). */
export function readReferenceEval(cacheDir: string, identity: EvalIdentity): ReferenceEval | null {
  const path = referenceEvalPath(cacheDir, identity);
  if (!existsSync(path)) return null;
  try {
    const parsed = ReferenceEvalSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success && parsed.data.key === evalKey(identity) ? parsed.data : null;
  } catch {
    return null; // torn or foreign: recompute
  }
}

export async function writeReferenceEval(
  cacheDir: string,
  identity: EvalIdentity,
  value: Omit<ReferenceEval, 'format' | 'key' | 'identity'>,
): Promise<ReferenceEval> {
  const full = ReferenceEvalSchema.parse({
    format: FORMAT,
    key: evalKey(identity),
    identity,
    ...value,
  });
  const path = referenceEvalPath(cacheDir, identity);
  await mkdir(dirname(path), { recursive: true });
  await writeJsonAtomic(path, full);
  return full;
}
