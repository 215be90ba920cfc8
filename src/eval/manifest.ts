/**
 * Reading what evaluation needs from a model folder: the manifest.json an unlearning run writes
 * (src/study/unlearn-job.ts; read here by its documented fields, since src/eval sits above the
 * bench layer), its per-step log for token counts, and the input transform of input-based
 * methods. Promises: a malformed manifest is a ConfigError naming the file and key; unknown keys
 * are allowed (the manifest belongs to the unlearning job and may grow).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../config/load.ts';
import { ConfigError } from '../errors.ts';
import { loadTransform, TRANSFORM_FILE } from '../unlearn/prompted.ts';
import type { InputTransform } from '../unlearn/types.ts';

export const MANIFEST_FILE = 'manifest.json';
/** The per-step log an unlearning run writes beside its manifest (one JSON object per step). */
export const UNLEARN_LOG_FILE = 'unlearn-log.jsonl';

export const UnlearnManifestSchema = z.looseObject({
  format: z.string(),
  method: z.string(),
  args: z.record(z.string(), z.unknown()).default({}),
  task: z.looseObject({ spec: z.string(), name: z.string(), hash: z.string() }).optional(),
  seed: z.number().optional(),
  source: z.string().optional(),
  trainableParameters: z.number().nonnegative(),
  transform: z.string().nullable().default(null),
  requests: z.array(z.looseObject({ steps: z.number() })).default([]),
  timings: z.looseObject({ seconds: z.number(), peakRssMb: z.number() }),
  extra: z.record(z.string(), z.unknown()).default({}),
});
export type UnlearnManifest = z.infer<typeof UnlearnManifestSchema>;

/** The manifest of a model folder, or null when it has none. */
export function readUnlearnManifest(dir: string): UnlearnManifest | null {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError('manifest.json is not valid JSON', { where: path, found: (e as Error).message });
  }
  return parseConfig(UnlearnManifestSchema, value, path);
}

/**
 * The input transform of a model folder: the file the manifest names, else `transform.json` (what
 * unlearning jobs write) or prompted.ts's TRANSFORM_FILE; null when there is none.
 */
export function readModelTransform(dir: string, manifest: UnlearnManifest | null): InputTransform | null {
  const names = [manifest?.transform, 'transform.json', TRANSFORM_FILE].filter(
    (n): n is string => typeof n === 'string' && n !== '',
  );
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return loadTransform(path);
  }
  if (manifest?.transform) {
    throw new ConfigError('the manifest names an input transform file that is missing', {
      where: join(dir, MANIFEST_FILE),
      found: `no ${manifest.transform} in ${dir}`,
    });
  }
  return null;
}

/**
 * Tokens the unlearning steps trained on: the sum of `tokens` over the run's log lines (scored
 * tokens per optimiser step, as the trainer logs them), or null without a log.
 */
export function unlearnTokens(dir: string): { tokens: number; steps: number } | null {
  const path = join(dir, UNLEARN_LOG_FILE);
  if (!existsSync(path)) return null;
  let tokens = 0;
  let steps = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { tokens?: unknown };
      if (typeof entry.tokens === 'number' && Number.isFinite(entry.tokens)) {
        tokens += entry.tokens;
        steps++;
      }
    } catch {
      // A torn last line from an interrupted run carries no step.
    }
  }
  return { tokens, steps };
}
