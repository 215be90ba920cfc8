/** `lethe prepare` and `lethe unlearn`: the target/oracle pair, and one unlearning run from it. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readConfigFile } from '../../config/load.ts';
import { TrainRecipeOverrides } from '../../config/train-config.ts';
import { resolveTask } from '../../data/resolve-task.ts';
import { prepare } from '../../study/prepare.ts';
import { runUnlearnJob } from '../../study/unlearn-job.ts';
import { parseArgStrings, planUnlearn } from '../../unlearn/runner.ts';
import { collect, intOption } from '../options.ts';

interface CommonFlags {
  task: string;
  config?: string;
  seed: number;
  cache: string;
  base?: string;
  dataDir?: string;
}

const TASK_HELP =
  'task.json, synthetic[:tiny|demo|small|large], tofu:forget01|forget05|forget10, or extraction[:N]';

function addCommon(cmd: Command): Command {
  return cmd
    .option('--task <spec>', TASK_HELP, 'synthetic')
    .option('--config <file>', 'training recipe for target and oracle (JSON, same keys as `lethe train`)')
    .option('--seed <n>', 'seed for data order, init and the method', intOption('--seed', 0), 0)
    .option('--cache <dir>', 'where prepared models are cached', '.lethe-cache')
    .option('--base <dir>', 'fine-tune this HF model folder instead of training from scratch')
    .option('--data-dir <dir>', 'folder with the staged benchmark data (default ../shared/datasets)');
}

async function prepared(f: CommonFlags) {
  const task = await resolveTask(f.task, f.dataDir);
  const recipe = f.config ? readConfigFile(TrainRecipeOverrides, f.config) : {};
  const p = await prepare({ task, recipe, seed: f.seed, cacheDir: resolve(f.cache), base: f.base });
  return { task, p };
}

export function registerPrepare(program: Command): void {
  addCommon(
    program
      .command('prepare')
      .description(
        'train (or reuse from the cache) the target model on forget ∪ retain and the oracle on retain only',
      ),
  ).action(async (f: CommonFlags) => {
    const { p } = await prepared(f);
    process.stdout.write(
      `${JSON.stringify({ key: p.key, reused: p.reused, target: p.target, oracle: p.oracle, info: p.info })}\n`,
    );
  });

  addCommon(
    program
      .command('unlearn')
      .description('apply an unlearning method to the prepared target (or --model) and save the result')
      .requiredOption('--method <name>', 'method name (see `lethe methods`)')
      .requiredOption('--out <dir>', 'output folder: HF model + manifest.json')
      .option(
        '--arg <key=value>',
        'method or training argument (repeatable), e.g. --arg lr=1e-4 --arg epochs=5',
        collect,
      )
      .option('--model <dir>', 'unlearn this model folder instead of the prepared target')
      .option(
        '--prepared <json>',
        '(used by lethe bench) facts about the prepared models to record in the manifest',
      ),
  ).action(
    async (
      f: CommonFlags & { method: string; out: string; arg?: string[]; model?: string; prepared?: string },
    ) => {
      const args = parseArgStrings(f.arg ?? []);
      // The method, its arguments and the request split are checked before any model is trained.
      planUnlearn(f.method, await resolveTask(f.task, f.dataDir), args);
      const { task, p } = f.model
        ? { task: await resolveTask(f.task, f.dataDir), p: null }
        : await prepared(f);
      const recorded = f.prepared ? (JSON.parse(f.prepared) as Record<string, unknown>) : null;
      const manifest = await runUnlearnJob({
        task,
        taskSpec: f.task,
        method: f.method,
        args,
        seed: f.seed,
        model: f.model ?? p!.target,
        out: resolve(f.out),
        extra: recorded ?? (p ? { prepareKey: p.key, oracle: p.oracle, target: p.target } : {}),
      });
      process.stdout.write(`${JSON.stringify(manifest)}\n`);
    },
  );
}
