/** `lethe bench --config study.json` (a whole study) and `lethe report runs/<study>` (re-render). */
import { relative } from 'node:path';
import { type Command, Option } from 'commander';
import { renderLeaderboardText, renderReport, reportCommand } from '../../report/index.ts';
import { runStudyOnQueue } from '../../study/queue/coordinator.ts';
import { completeStudyRun, readStudy, runStudy } from '../../study/study.ts';
import '../../unlearn/methods/index.ts';

const shown = (p: string) => relative(process.cwd(), p) || '.';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'run an unlearning study: prepare target and oracle, run a grid of methods, evaluate, report',
    )
    .requiredOption(
      '--config <file>',
      'study JSON (see configs/): task, seeds, suites, methods with args and grids',
    )
    .option(
      '--queue <url>',
      'run the study on workers through a BullMQ job queue (redis://HOST:PORT); start workers with `lethe worker`',
    )
    .option('--retry-failed', 'with --queue: put runs that failed in an earlier attempt back on the queue')
    // A queue worker's child: complete this one run of the study, nothing else.
    .addOption(new Option('--only <run>').hideHelp())
    .action(async (f: { config: string; queue?: string; retryFailed?: boolean; only?: string }) => {
      const study = readStudy(f.config);
      if (f.only) {
        // Die with the worker that started us, so a retried run never has an orphan writing beside it.
        const orphaned = () => process.exit(1);
        process.on('disconnect', orphaned);
        try {
          await completeStudyRun(study, f.only);
        } finally {
          // An open IPC channel would keep this process alive after the run, failed or not.
          process.off('disconnect', orphaned);
          if (process.connected) process.disconnect();
        }
        return;
      }
      const { dir, summary } = f.queue
        ? await runStudyOnQueue(study, { queue: f.queue, retryFailed: f.retryFailed })
        : await runStudy(study);
      const files = await renderReport(summary, dir);
      process.stdout.write(`${renderLeaderboardText(summary)}\n`);
      process.stdout.write(`report: ${shown(files.html)}\nsummary: ${shown(files.markdown)}\n`);
    });
  program
    .command('report')
    .description('re-render a study report from its summary.json (no models needed)')
    .argument('<dir>', 'study folder (runs/<study>) or its summary.json')
    .action(async (dir: string) => {
      const paths = await reportCommand(dir);
      for (const p of paths) process.stdout.write(`${shown(p)}\n`);
    });
}
