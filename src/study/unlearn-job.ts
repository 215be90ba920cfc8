/**
 * One unlearning job as a user runs it: take the prepared target (or a given model folder),
 * apply a method, and write the result as an HF folder with a manifest that says how to
 * reproduce it (method, arguments, task and data hashes, seed, versions, timings, peak memory,
 * trainable parameters). Input-based methods write the unchanged model plus transform.json.
 * The manifest is written last: a folder without one is incomplete and is redone. The output
 * folder is emptied first, so it must hold nothing but an earlier unlearning output.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { backend } from '../backend/index.ts';
import { requireForgetData, type Task, taskHash } from '../data/index.ts';
import { absoluteTaskSpec } from '../data/resolve-task.ts';
import { ConfigError } from '../errors.ts';
import { UNLEARN_LOG_FILE } from '../eval/manifest.ts';
import { isAtomicTempName, writeJsonAtomic } from '../io/atomic.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { loadPretrained, savePretrained } from '../text/pretrained.ts';
import { activePromptFormat, keepChatTemplate } from '../text/template.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { type UnlearnResult, unlearn } from '../unlearn/runner.ts';

export const MANIFEST_FILE = 'manifest.json';
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export interface UnlearnJob {
  task: Task;
  /** How the task was named (recorded in the manifest). */
  taskSpec: string;
  method: string;
  args: Record<string, unknown>;
  seed: number;
  /** The model to unlearn from (the prepared target). */
  model: string;
  out: string;
  progress?: boolean;
  /** Extra facts to record (e.g. the prepare cache key and oracle path). */
  extra?: Record<string, unknown>;
}

export interface Manifest {
  format: 'lethe-unlearn/1';
  method: string;
  args: Record<string, unknown>;
  /** spec with folders made absolute, so the manifest resolves from any working directory. */
  task: { spec: string; name: string; hash: string };
  seed: number;
  /** The model unlearned from, absolute. */
  source: string;
  /** How QA items were asked: the QA template, and the chat template's origin or null. */
  prompt: { qa: string; chatTemplate: string | null };
  lethe: string;
  node: string;
  backend: string;
  threads: number;
  cores: number;
  trainableParameters: number;
  requests: { steps: number; finalLoss: number; stoppedEarly: boolean }[];
  /** Forget items of kinds the method does not support, left out (by kind). */
  leftOut: Partial<Record<'qa' | 'text' | 'tokens', number>>;
  transform: string | null;
  /** Wall time and memory; kept apart from everything else so results compare byte for byte. */
  timings: { seconds: number; peakRssMb: number; requestSeconds: number[] };
  extra: Record<string, unknown>;
}

export function readManifest(dir: string): Manifest | null {
  const path = join(dir, MANIFEST_FILE);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Manifest) : null;
}

/** What an unlearning output folder may hold (an earlier, possibly interrupted, run's files). */
const OUTPUT_FILE =
  /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|special_tokens_map\.json|chat_template\.jinja|transform\.json|manifest\.json|unlearn-log\.jsonl(\.[a-z][a-z0-9-]*)?|checkpoints?|request-\d+|.*\.safetensors(\.index\.json)?)$/;

/**
 * Refuse an output folder that replacing would destroy something else: the model being unlearned,
 * a file, or a folder holding anything but an earlier unlearning output (e.g. `--out .`).
 */
export function checkUnlearnOut(out: string, model?: string): void {
  if (model !== undefined && resolve(out) === resolve(model)) {
    throw new ConfigError('the output folder is the model being unlearned', {
      where: `--out ${out}`,
      hint: 'write the unlearned model to a new folder',
    });
  }
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) {
    throw new ConfigError('the output path exists and is not a folder', { where: `--out ${out}` });
  }
  const foreign = readdirSync(out).filter((n) => !OUTPUT_FILE.test(n) && !isAtomicTempName(n));
  if (foreign.length > 0) {
    throw new ConfigError('refusing to replace a folder that holds other files', {
      where: `--out ${out}`,
      found: foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? ', ...' : ''),
      hint: 'choose a new or empty output folder',
    });
  }
}

export async function runUnlearnJob(job: UnlearnJob): Promise<Manifest> {
  const started = performance.now();
  requireForgetData(job.task, 'unlearn');
  checkUnlearnOut(job.out, job.model);
  await rm(job.out, { recursive: true, force: true });
  await mkdir(job.out, { recursive: true });
  const { model, tokenizer } = await loadPretrained(job.model);
  const result = await unlearn({
    model,
    tokenizer,
    task: job.task,
    method: job.method,
    args: job.args,
    seed: job.seed,
    progress: job.progress,
    logFile: join(job.out, UNLEARN_LOG_FILE),
  });
  return writeUnlearnOutput({ ...job, model, tokenizer, source: job.model, result, started });
}

/**
 * Save an unlearned model into `out` (which holds its step log already) as a complete unlearning
 * output: the HF folder, the transform of an input-based method, and the manifest, last.
 * `started`: when the job began (performance.now()), for the manifest's wall time.
 */
export async function writeUnlearnOutput(o: {
  out: string;
  model: CausalLM;
  tokenizer: Tokenizer;
  result: UnlearnResult;
  task: Task;
  taskSpec: string;
  seed: number;
  source: string;
  started: number;
  extra?: Record<string, unknown>;
}): Promise<Manifest> {
  const { out, result } = o;
  await savePretrained(out, o.model, o.tokenizer);
  await keepChatTemplate(out);
  if (result.transform) await writeJsonAtomic(join(out, 'transform.json'), result.transform);
  const manifest: Manifest = {
    format: 'lethe-unlearn/1',
    method: result.method,
    args: result.args,
    task: { spec: absoluteTaskSpec(o.taskSpec), name: o.task.name, hash: taskHash(o.task) },
    seed: o.seed,
    source: resolve(o.source),
    prompt: { qa: activePromptFormat().qa, chatTemplate: activePromptFormat().chat?.from ?? null },
    lethe: pkg.version,
    node: process.version,
    backend: backend.name,
    threads: backend.getThreads(),
    cores: availableParallelism(),
    trainableParameters: result.trainableParameters,
    requests: result.requests.map((r) => ({
      steps: r.steps,
      finalLoss: r.finalLoss,
      stoppedEarly: r.stoppedEarly,
    })),
    leftOut: result.leftOut,
    transform: result.transform ? 'transform.json' : null,
    timings: {
      seconds: Number(((performance.now() - o.started) / 1000).toFixed(3)),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      requestSeconds: result.requests.map((r) => Number(r.seconds.toFixed(3))),
    },
    extra: o.extra ?? {},
  };
  await writeJsonAtomic(join(out, MANIFEST_FILE), manifest, { indent: 2 });
  return manifest;
}
