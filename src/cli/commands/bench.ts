/**
 * `lethe bench --config study.json` (a whole study) and `lethe report runs/<study>` (re-render).
 * The study is checked whole before any work; with --json the result is one JSON object on stdout
 * (progress stays on stderr). The report code (vega) is loaded only when a report is rendered, so
 * the other commands — each unlearning child of a study among them — start faster.
 */
import { relative } from 'node:path';
import { type Command, Option } from 'commander';
import { watchParent } from '../../study/child.ts';
import { runStudyOnQueue } from '../../study/queue/coordinator.ts';
import { checkStudy, completeStudyRuns, defaultJobs, readStudy, runStudy } from '../../study/study.ts';
import { intOption } from '../options.ts';

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
    .option('--check', 'only check the study file (methods, arguments, suites, metrics, task, recipe)')
    .option('--json', 'print one JSON object on stdout (the summary and file paths) instead of the table')
    .option(
      '--queue <url>',
      'run the study on workers through a BullMQ job queue (redis://HOST:PORT[/DB]); start them with `lethe worker`',
    )
    .option('--retry-failed', 'with --queue: put runs that failed in an earlier attempt back on the queue')
    .option(
      '--jobs <n>',
      `processes working at once (training, unlearning, evaluation); 1 = one after another; results do not depend on it (default: one per core, here ${defaultJobs()})`,
      intOption('--jobs', 1),
    )
    // A queue worker's child: complete this one run of the study, nothing else.
    .addOption(new Option('--only <run>').hideHelp())
    .action(
      async (f: {
        config: string;
        check?: boolean;
        json?: boolean;
        queue?: string;
        retryFailed?: boolean;
        only?: string;
        jobs?: number;
      }) => {
        const checked = await checkStudy(readStudy(f.config), f.config);
        if (f.check) {
          const ok = { ok: true, study: checked.study.name, runs: checked.runs.map((r) => r.id) };
          process.stdout.write(
            f.json ? `${JSON.stringify(ok)}\n` : `${f.config}: ok, ${ok.runs.length} runs\n`,
          );
          return;
        }
        if (f.only) {
          // Started by a queue worker: end with it, so a retried run never has an orphan beside it.
          watchParent();
          await completeStudyRuns(checked, [f.only]);
          return;
        }
        const { dir, summary } = f.queue
          ? await runStudyOnQueue(checked, { queue: f.queue, retryFailed: f.retryFailed })
          : await runStudy(checked, { jobs: f.jobs });
        const { renderLeaderboardText, renderReport } = await import('../../report/index.ts');
        const files = await renderReport(summary, dir);
        if (f.json) {
          process.stdout.write(
            `${JSON.stringify({ dir: shown(dir), report: shown(files.html), markdown: shown(files.markdown), summary })}\n`,
          );
          return;
        }
        process.stdout.write(`${renderLeaderboardText(summary)}\n`);
        process.stdout.write(`report: ${shown(files.html)}\nsummary: ${shown(files.markdown)}\n`);
      },
    );
  program
    .command('report')
    .description('re-render a study report from its summary.json (no models needed)')
    .argument('<dir>', 'study folder (runs/<study>) or its summary.json')
    .action(async (dir: string) => {
      const { reportCommand } = await import('../../report/index.ts');
      const paths = await reportCommand(dir);
      for (const p of paths) process.stdout.write(`${shown(p)}\n`);
    });
}
