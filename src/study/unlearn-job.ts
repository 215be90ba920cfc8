/**
 * One unlearning job as a user runs it: take the prepared target (or a given model folder),
 * apply a method, and write the result as an HF folder with a manifest that says how to
 * reproduce it (method, arguments, task and data hashes, seed, versions, timings, peak memory,
 * trainable parameters). Input-based methods write the unchanged model plus transform.json.
 * The manifest is written last: a folder without one is incomplete and is redone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { backend } from '../backend/index.ts';
import { type Task, taskHash } from '../data/index.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { loadPretrained, savePretrained } from '../text/pretrained.ts';
import '../unlearn/methods/index.ts';
import { unlearn } from '../unlearn/runner.ts';

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
  task: { spec: string; name: string; hash: string };
  seed: number;
  source: string;
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

export async function runUnlearnJob(job: UnlearnJob): Promise<Manifest> {
  const started = performance.now();
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
    logFile: join(job.out, 'unlearn-log.jsonl'),
  });
  await savePretrained(job.out, model, tokenizer);
  if (result.transform) await writeJsonAtomic(join(job.out, 'transform.json'), result.transform);
  const manifest: Manifest = {
    format: 'lethe-unlearn/1',
    method: result.method,
    args: result.args,
    task: { spec: job.taskSpec, name: job.task.name, hash: taskHash(job.task) },
    seed: job.seed,
    source: job.model,
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
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      requestSeconds: result.requests.map((r) => Number(r.seconds.toFixed(3))),
    },
    extra: job.extra ?? {},
  };
  await writeJsonAtomic(join(job.out, MANIFEST_FILE), manifest, { indent: 2 });
  return manifest;
}
