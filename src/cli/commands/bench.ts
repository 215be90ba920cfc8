/** `lethe bench --config study.json` (a whole study) and `lethe report runs/<study>` (re-render). */
import { relative } from 'node:path';
import type { Command } from 'commander';
import { renderLeaderboardText, renderReport, reportCommand } from '../../report/index.ts';
import { readStudy, runStudy } from '../../study/study.ts';
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
    .action(async (f: { config: string }) => {
      const study = readStudy(f.config);
      const { dir, summary } = await runStudy(study);
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
