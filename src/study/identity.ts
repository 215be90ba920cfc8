/**
 * What a study's cached work is keyed by, so that changing anything that alters a result redoes
 * exactly the affected work:
 *   - the code version: lethe's package version plus a hash of the library sources that compute
 *     results (an edited metric or method is new code even before the version is bumped);
 *   - a model hash: the bytes of a model folder's config, tokenizer, weights and transform;
 *   - an unlearning run's identity: task data, the target model, method, resolved arguments
 *     (schema defaults applied), seed, code version;
 *   - an evaluation's identity: the run's identity (or the reference model's hash), the oracle
 *     and target it is graded against, metric names, evaluation options, code version.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contentHash } from '../data/index.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** lethe's package version. */
export const LETHE_VERSION = pkg.version;

/** Source folders whose code decides what a model, unlearning run or evaluation produces. */
const RESULT_CODE = [
  'backend',
  'config',
  'data',
  'eval',
  'io',
  'models',
  'nn',
  'tensor',
  'text',
  'train',
  'unlearn',
  'study',
];

function sourceFiles(dir: string, out: string[]): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

let cachedCodeVersion: string | null = null;

/** `<version>+<12 hex of the result-deciding sources>`; computed once per process. */
export function codeVersion(): string {
  if (cachedCodeVersion) return cachedCodeVersion;
  const src = fileURLToPath(new URL('../', import.meta.url));
  const hash = createHash('sha256');
  for (const folder of RESULT_CODE) {
    for (const file of sourceFiles(join(src, folder), [])) {
      hash.update(`${relative(src, file)}\n`);
      hash.update(readFileSync(file));
    }
  }
  cachedCodeVersion = `${LETHE_VERSION}+${hash.digest('hex').slice(0, 12)}`;
  return cachedCodeVersion;
}

/** Files of a model folder that decide its outputs (logs, manifests and checkpoints are not). */
const MODEL_FILE =
  /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|transform\.json|.*\.safetensors(\.index\.json)?)$/;

/** sha256 over the names and bytes of a model folder's weights, config, tokenizer and transform. */
export function modelHash(dir: string): string {
  const hash = createHash('sha256');
  hash.update('lethe-model-v1\n');
  for (const name of readdirSync(dir).sort()) {
    if (!MODEL_FILE.test(name)) continue;
    hash.update(`${name}\n`);
    hash.update(readFileSync(join(dir, name)));
  }
  return hash.digest('hex');
}

export interface RunIdentity {
  task: string;
  target: string;
  method: string;
  args: Record<string, unknown>;
  seed: number;
  code: string;
}

export interface EvalIdentity {
  /** The evaluated model: a run's identity key, or a reference model's hash. */
  model: string;
  oracle: string;
  target: string;
  task: string;
  metrics: string[];
  suite: string | null;
  options: Record<string, unknown>;
  code: string;
  /** Example generations per split kept beside the results (the reference cache holds them). */
  examples?: number;
}

export const runKey = (id: RunIdentity): string => contentHash(id, 'lethe-run-v1');
export const evalKey = (id: EvalIdentity): string => contentHash(id, 'lethe-eval-v1');
