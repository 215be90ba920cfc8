/**
 * The main script of a study's child process (started with child.ts `childMainArgs`): one JSON
 * argument says what to do — `train` one of prepare's two models (prepare.ts), `search` a
 * run's arguments (search.ts) or `evaluate` a run (eval-job.ts). The child dies with its parent (watchParent); an error is one
 * line on stderr and exit code 1, which the parent reports with what it was doing.
 */
import { watchParent } from './child.ts';
import type { EvalJob } from './eval-job.ts';
import type { TrainRoleJob } from './prepare.ts';
import type { SearchJob } from './search.ts';

async function main(arg: string | undefined): Promise<void> {
  watchParent();
  const job = JSON.parse(arg ?? 'null') as TrainRoleJob | SearchJob | EvalJob | null;
  if (job?.kind === 'train') {
    const { runTrainRoleJob } = await import('./prepare.ts');
    await runTrainRoleJob(job);
  } else if (job?.kind === 'search') {
    const { runSearchJob } = await import('./search.ts');
    await runSearchJob(job);
  } else if (job?.kind === 'evaluate') {
    const { runEvalJob } = await import('./eval-job.ts');
    await runEvalJob(job);
  } else throw new Error(`not a study child job: ${arg}`);
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.LETHE_DEBUG) process.stderr.write(`${(err as Error)?.stack}\n`);
  process.exitCode = 1;
});
