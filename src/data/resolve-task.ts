/**
 * Naming a task on the command line: a task.json path, or a built-in spec —
 *   synthetic[:tiny|demo|small|large][:seed]   lethe's generated benchmark (no external data; the default)
 *   tofu:forget01|forget05|forget10        TOFU from ../shared/datasets/tofu (or --data-dir)
 *   extraction[:N]                         N sequences of the training-data extraction benchmark
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { generateSynthetic, loadExtraction, loadTask, loadTofu, type Task } from './index.ts';

/** LETHE_DATA_DIR, else ../shared/datasets beside the repository: where staged benchmark data lives. */
export function defaultDataDir(): string {
  if (process.env.LETHE_DATA_DIR) return resolve(process.env.LETHE_DATA_DIR);
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'datasets');
}

export async function resolveTask(spec: string, dataDir = defaultDataDir()): Promise<Task> {
  const [kind, a, b] = spec.split(':');
  if (kind === 'synthetic') {
    const size = (a || 'small') as 'tiny' | 'demo' | 'small' | 'large';
    return generateSynthetic({ size, seed: b === undefined ? 0 : Number(b) });
  }
  const need = (dir: string) => {
    if (!existsSync(dir)) {
      throw new ConfigError(`task ${spec} needs data at ${dir}`, {
        hint: 'pass --data-dir, or use the built-in synthetic task',
      });
    }
    return dir;
  };
  if (kind === 'tofu') {
    return loadTofu(need(join(dataDir, 'tofu')), { split: (a || 'forget01') as 'forget01' });
  }
  if (kind === 'extraction') {
    return loadExtraction(need(join(dataDir, 'lm_extraction_benchmark')), {
      n: a ? Number(a) : 32,
      retain: 512,
    });
  }
  if (spec.endsWith('.json') || existsSync(spec)) return loadTask(spec);
  throw new ConfigError(`unknown task "${spec}"`, {
    expected:
      'a task.json path, synthetic[:tiny|demo|small|large], tofu:forget01|forget05|forget10 or extraction[:N]',
  });
}
