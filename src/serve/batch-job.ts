/**
 * One attempt at a batch, run in a child process (`lethe serve batch-job JOB.json`) so the API
 * stays responsive and a crash cannot take the service down: the batch's items become the forget
 * split of the service's task, the same unlearning job `lethe unlearn` runs (runUnlearnJob) writes
 * the candidate folder, and the candidate is verified against the base version. The verdict is
 * written atomically last; no verdict file means the attempt did not finish.
 *
 * The job file holds raw items; it lives in the attempt's private work folder, which the worker
 * deletes when the batch is published or rejected.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { resolveTask } from '../data/resolve-task.ts';
import { emptySplit, type Task } from '../data/task.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { runUnlearnJob } from '../study/unlearn-job.ts';
import { loadPretrained } from '../text/pretrained.ts';
import { PolicySchema } from './policy.ts';
import { type Verdict, verifyCandidate } from './verify.ts';

export const BatchJobSchema = z.strictObject({
  taskSpec: z.string(),
  dataDir: z.string().optional(),
  items: z.array(
    z.union([
      z.strictObject({ text: z.string() }),
      z.strictObject({ question: z.string(), answer: z.string() }),
    ]),
  ),
  subjects: z.array(z.string()),
  method: z.string(),
  args: z.record(z.string(), z.unknown()),
  seed: z.number().int(),
  base: z.string(),
  out: z.string(),
  verdict: z.string(),
  forgetting: PolicySchema.shape.forgetting,
  utility: PolicySchema.shape.utility,
});
export type BatchJob = z.infer<typeof BatchJobSchema>;

export interface BatchVerdict extends Verdict {
  method: string;
  args: Record<string, unknown>;
  seconds: { unlearn: number; verify: number };
}

/** The service task with its forget split replaced by the batch's items. */
export function batchTask(task: Task, items: BatchJob['items'], tag: string): Task {
  const forget = emptySplit();
  items.forEach((it, i) => {
    const id = `${tag}-${i}`;
    if ('question' in it) forget.qa.push({ id, question: it.question, answer: it.answer });
    else forget.text.push({ id, text: it.text });
  });
  return { ...task, name: `${task.name}+${tag}`, splits: { ...task.splits, forget } };
}

export async function runBatchJob(jobPath: string): Promise<BatchVerdict> {
  const job = BatchJobSchema.parse(JSON.parse(readFileSync(jobPath, 'utf8')));
  const task = batchTask(await resolveTask(job.taskSpec, job.dataDir), job.items, 'request-item');
  const t0 = performance.now();
  const manifest = await runUnlearnJob({
    task,
    taskSpec: job.taskSpec,
    method: job.method,
    args: job.args,
    seed: job.seed,
    model: job.base,
    out: job.out,
    progress: false,
  });
  const t1 = performance.now();
  const base = await loadPretrained(job.base);
  const candidate = await loadPretrained(job.out);
  const verdict = verifyCandidate(base, candidate, {
    task,
    items: job.items,
    subjects: job.subjects,
    policy: { forgetting: job.forgetting, utility: job.utility },
  });
  const out: BatchVerdict = {
    ...verdict,
    method: manifest.method,
    args: manifest.args,
    seconds: { unlearn: (t1 - t0) / 1000, verify: (performance.now() - t1) / 1000 },
  };
  await writeJsonAtomic(job.verdict, out, { indent: 2 });
  return out;
}
