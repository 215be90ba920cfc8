/**
 * One run's evaluation in a child process (child-main.ts), what a study with jobs > 1 does so that
 * several runs are graded at once: the same `evaluate` call as the study's in-process one, with the
 * target's and oracle's results reused from the study's reference evaluation (cached on disk,
 * reference-eval.ts) and the oracle loaded here. Its results.json is byte for byte the one the
 * study process would write: scoring is deterministic, and the child runs with the study
 * process's thread count, which results.json records.
 */

import { taskHash } from '../data/index.ts';
import { resolveTask } from '../data/resolve-task.ts';
import { LetheError } from '../errors.ts';
import { evaluate, writeResults } from '../eval/index.ts';
import { EvalOptionsSchema } from '../eval/options.ts';
import type { EvalIdentity } from './identity.ts';
import { readReferenceEval } from './reference-eval.ts';

export interface EvalJob {
  kind: 'evaluate';
  /** The study's task spec and data folder (resolved in the child, from the study's folder). */
  taskSpec: string;
  dataDir?: string;
  /** The hash the resolved task must have: the parent's. */
  taskHash: string;
  suite?: string;
  metrics: string[];
  modelDir: string;
  oracleDir: string;
  /** Where the study's reference evaluation is cached, and its identity. */
  cacheDir: string;
  references: EvalIdentity & { examples: number };
  options: { seed: number; progress: boolean };
  resultsPath: string;
}

export async function runEvalJob(job: EvalJob): Promise<void> {
  const task = await resolveTask(job.taskSpec, job.dataDir);
  if (taskHash(task) !== job.taskHash) {
    throw new LetheError("the task an evaluation child resolved differs from its parent's", {
      where: job.taskSpec,
      found: `task hash ${taskHash(task)}`,
      expected: `task hash ${job.taskHash}`,
    });
  }
  const refs = readReferenceEval(job.cacheDir, job.references);
  if (!refs) {
    throw new LetheError('the study has no reference evaluation to reuse', { where: job.cacheDir });
  }
  const results = await evaluate({
    task,
    taskSpec: job.taskSpec,
    suite: job.suite,
    metrics: job.metrics,
    model: { dir: job.modelDir },
    oracle: { dir: job.oracleDir },
    reuse: {
      oracle: { info: refs.oracle.info, metrics: refs.oracle.metrics },
      target: { info: refs.target.info, metrics: refs.target.metrics },
    },
    options: EvalOptionsSchema.parse(job.options),
  });
  await writeResults(job.resultsPath, results);
}
