/**
 * `lethe eval --model DIR --task T --suite S --out results.json`: run an evaluation suite on a
 * model folder, side by side with the oracle and the target when given (or when the folder's
 * manifest.json names them), and write the validated results file. Prints a summary table on
 * stdout (with --json, the results as one JSON object); exits 1 when a metric failed (the results
 * are still written). Every flag is checked before any model is loaded.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveTask, TASK_SPEC_HELP } from '../../data/resolve-task.ts';
import { ConfigError } from '../../errors.ts';
import { readUnlearnManifest } from '../../eval/manifest.ts';
import { EvalOptionsSchema } from '../../eval/options.ts';
import { companionsFromManifest, requestedMetrics, runEval } from '../../eval/runner.ts';
import { SUITE_NAMES } from '../../eval/suites.ts';
import { summaryLines } from '../../eval/summary-text.ts';
import { applyPromptFormat } from '../../text/template.ts';
import { collect, intOption } from '../options.ts';
import { checkResultsFile } from '../out-folder.ts';

interface EvalFlags {
  model: string;
  task?: string;
  suite?: string;
  metric?: string[];
  oracle?: string;
  target?: string;
  companions: boolean;
  out: string;
  force?: boolean;
  seed: number;
  batchSize?: number;
  set?: string[];
  dataDir?: string;
  progress: boolean;
  chatTemplate: boolean;
  json?: boolean;
}

/** `key=value` pairs into evaluation options (numbers and booleans parsed), checked by the schema. */
export function parseEvalSettings(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError('invalid --set', { expected: 'key=value', found: p });
    const raw = p.slice(eq + 1);
    out[p.slice(0, eq)] =
      raw === 'true' ? true : raw === 'false' ? false : Number.isNaN(Number(raw)) ? raw : Number(raw);
  }
  return out;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'evaluate a model against the oracle and the target: forgetting, privacy, utility, efficiency',
    )
    .requiredOption('--model <dir>', 'model folder to evaluate (an unlearned folder, or any HF folder)')
    .option('--task <spec>', `${TASK_SPEC_HELP}; default: the manifest's task, else synthetic`)
    .option('--suite <name>', `suite: ${SUITE_NAMES.join(', ')}`)
    .option('--metric <name>', 'a metric to run (repeatable; after the suite’s)', collect)
    .option(
      '--oracle <dir>',
      "the oracle (retrained without the forget data); default: the manifest's extra.oracle",
    )
    .option(
      '--target <dir>',
      'the target (before unlearning); default: the manifest’s extra.target or source',
    )
    .option('--no-companions', 'do not take the oracle and target from the model’s manifest.json')
    .requiredOption(
      '--out <file>',
      'results JSON file (written atomically); an existing one must be an earlier evaluation of --model',
    )
    .option('--force', 'replace an existing --out file that is not an earlier evaluation of --model')
    .option(
      '--seed <n>',
      'seed of sampled choices (EL positions, gradient-norm subsets)',
      intOption('--seed', 0),
      0,
    )
    .option('--batch-size <n>', 'sequences per forward pass', intOption('--batch-size', 1))
    .option('--set <key=value>', 'an evaluation option, e.g. --set qaMaxNewTokens=32 (repeatable)', collect)
    .option('--data-dir <dir>', 'folder with staged benchmark data (default: $LETHE_DATA_DIR)')
    .option('--no-progress', 'no progress lines on stderr')
    .option('--no-chat-template', "ask QA items without the model's chat template (tokenizer_config.json)")
    .option('--json', 'print the results as one JSON object on stdout (progress stays on stderr)')
    .action(async (f: EvalFlags) => {
      if (!f.suite && !f.metric?.length) {
        throw new ConfigError('lethe eval needs --suite or --metric', { expected: SUITE_NAMES.join(', ') });
      }
      requestedMetrics({ suite: f.suite, metrics: f.metric }); // unknown names fail before any loading
      const model = resolve(f.model);
      const named = f.companions ? companionsFromManifest(model) : {};
      const oracle = f.oracle ? resolve(f.oracle) : named.oracle;
      const target = f.target ? resolve(f.target) : named.target;
      const raw = {
        ...parseEvalSettings(f.set ?? []),
        seed: f.seed,
        progress: f.progress,
        ...(f.batchSize ? { batchSize: f.batchSize } : {}),
      };
      const parsed = EvalOptionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new ConfigError('invalid evaluation option', {
          where: `--set ${issue.path.join('.') || '(options)'}`,
          found: issue.message,
          hint: `options: ${Object.keys(EvalOptionsSchema.shape).join(', ')}`,
        });
      }
      for (const [flag, dir] of [
        ['--model', model],
        ['--oracle', oracle],
        ['--target', target],
      ] as const) {
        if (dir !== undefined && !existsSync(dir)) {
          throw new ConfigError('model folder not found', { where: `${flag} ${dir}` });
        }
      }
      const out = checkResultsFile(f.out, model, Boolean(f.force));
      const taskSpec = f.task ?? readUnlearnManifest(model)?.task?.spec ?? 'synthetic';
      const task = await resolveTask(taskSpec, f.dataDir);
      // Oracle and target are asked exactly as the evaluated model is.
      applyPromptFormat({ qaTemplate: task.prompt?.qa, modelDir: model, chatTemplate: f.chatTemplate });
      if (f.progress) {
        process.stderr.write(
          `eval: task ${taskSpec}\neval: model ${model}\neval: oracle ${oracle ?? '(none)'}\neval: target ${target ?? '(none)'}\n`,
        );
      }
      const results = await runEval({
        task,
        taskSpec,
        suite: f.suite,
        metrics: f.metric,
        model: { dir: model },
        oracle: oracle ? { dir: oracle } : null,
        target: target ? { dir: target } : null,
        options: parsed.data,
        out,
      });
      if (f.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else process.stdout.write(`${summaryLines(results).join('\n')}\nresults: ${out}\n`);
      const failed = Object.values(results.metrics).some((e) =>
        [e.unlearned, e.oracle, e.target].some((r) => r && 'failed' in r),
      );
      if (failed) {
        process.stderr.write('error: some metrics failed (see the results file)\n');
        process.exitCode = 1;
      }
    });
}
