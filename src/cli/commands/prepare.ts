/**
 * `lethe prepare` and `lethe unlearn`: the target/oracle pair, and one unlearning run from it.
 * Both check every flag (task, recipe, method, arguments) before loading or training anything,
 * and print one JSON object on stdout (progress goes to stderr).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { defaultCacheDir } from '../../api/environment.ts';
import { readConfigFile } from '../../config/load.ts';
import { TrainRecipeOverrides } from '../../config/train-config.ts';
import { absoluteTaskSpec, resolveTask, TASK_SPEC_HELP } from '../../data/resolve-task.ts';
import { ConfigError } from '../../errors.ts';
import { watchParent } from '../../study/child.ts';
import { prepare } from '../../study/prepare.ts';
import { checkRecipe } from '../../study/study-config.ts';
import { runUnlearnJob } from '../../study/unlearn-job.ts';
import { applyPromptFormat } from '../../text/template.ts';
import { parseArgStrings, planUnlearn } from '../../unlearn/runner.ts';
import { collect, intOption } from '../options.ts';
import { checkOutFolder, clearFolder, unlearnJudge } from '../out-folder.ts';
import { UsageError } from '../usage-error.ts';

interface CommonFlags {
  task: string;
  config?: string;
  seed: number;
  cache: string;
  base?: string;
  dataDir?: string;
  chatTemplate: boolean;
  json?: boolean;
}

function addCommon(cmd: Command): Command {
  return cmd
    .option('--task <spec>', TASK_SPEC_HELP, 'synthetic')
    .option('--config <file>', 'training recipe for target and oracle (JSON, same keys as `lethe train`)')
    .option('--seed <n>', 'seed for data order, init and the method', intOption('--seed', 0), 0)
    .option('--cache <dir>', 'where prepared models are cached (env LETHE_CACHE_DIR)', defaultCacheDir())
    .option('--base <dir>', 'fine-tune this HF model folder instead of training from scratch')
    .option('--data-dir <dir>', 'folder with staged benchmark data (default: $LETHE_DATA_DIR)')
    .option('--no-chat-template', "ask QA items without the model's chat template (tokenizer_config.json)")
    .option('--json', 'print the result as one JSON object on stdout (the default; progress on stderr)');
}

/** Read and check the recipe file (defaults applied) before anything is trained. */
function recipeOf(f: CommonFlags) {
  const recipe = f.config ? readConfigFile(TrainRecipeOverrides, f.config) : {};
  checkRecipe(recipe, f.config ?? 'recipe', '');
  return recipe;
}

async function prepared(f: CommonFlags) {
  const recipe = recipeOf(f);
  const task = await resolveTask(f.task, f.dataDir);
  applyPromptFormat({ qaTemplate: task.prompt?.qa, modelDir: f.base, chatTemplate: f.chatTemplate });
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
      .requiredOption(
        '--out <dir>',
        'output folder: HF model + manifest.json. Must be new or empty, or hold an interrupted run ' +
          'or the same run (method, arguments, seed, task, --model) finished earlier, which it replaces',
      )
      .option('--force', 'replace a non-empty --out folder that holds anything else')
      .option(
        '--arg <key=value>',
        'method or training argument (repeatable), e.g. --arg lr=1e-4 --arg epochs=5',
        collect,
      )
      .option('--model <dir>', 'unlearn this model folder instead of the prepared target')
      .addOption(
        // Internal: lethe bench passes what it prepared, to be recorded in the manifest.
        new Option('--prepared <json>', 'facts about the prepared models to record').hideHelp(),
      ),
  ).action(
    async (
      f: CommonFlags & {
        method: string;
        out: string;
        arg?: string[];
        model?: string;
        prepared?: string;
        force?: boolean;
      },
    ) => {
      // Started by `lethe bench`: end with the parent, however it ends.
      watchParent();
      // Everything the flags say is checked before any loading or training.
      const args = parseArgStrings(f.arg ?? []);
      // The method, its arguments and the request split are checked before any model is trained.
      const plan = planUnlearn(f.method, await resolveTask(f.task, f.dataDir), args);
      let recorded: Record<string, unknown> | null = null;
      if (f.model && resolve(f.model) === resolve(f.out)) {
        throw new UsageError('the output folder is the model being unlearned', {
          where: `--out ${f.out}`,
          hint: 'write the unlearned model to a new folder',
        });
      }
      const out = checkOutFolder({
        dir: f.out,
        force: Boolean(f.force),
        judge: unlearnJudge({
          method: f.method,
          args: plan.args,
          seed: f.seed,
          taskSpec: absoluteTaskSpec(f.task),
          model: f.model,
        }),
        inputs: [f.model, f.base, f.config, f.cache, f.dataDir, existsSync(f.task) ? f.task : undefined],
      });
      if (f.prepared) {
        try {
          recorded = JSON.parse(f.prepared) as Record<string, unknown>;
        } catch (e) {
          throw new ConfigError('invalid --prepared', {
            expected: 'a JSON object',
            found: (e as Error).message,
          });
        }
      }
      const { task, p } = f.model
        ? { task: await resolveTask(f.task, f.dataDir), p: null }
        : await prepared(f);
      applyPromptFormat({
        qaTemplate: task.prompt?.qa,
        modelDir: f.model ?? p!.target,
        chatTemplate: f.chatTemplate,
      });
      clearFolder(out);
      const manifest = await runUnlearnJob({
        task,
        taskSpec: absoluteTaskSpec(f.task),
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
