/**
 * `lethe train`: flags (and an optional --config recipe file, which flags override) into a train
 * recipe for trainFromRecipe (src/api/train.ts), which does the work; prints its summary as JSON.
 */
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { trainFromRecipe } from '../../api/train.ts';
import { readConfigFile } from '../../config/load.ts';
import { type TrainRecipe, TrainRecipeOverrides, TrainRecipeSchema } from '../../config/train-config.ts';
import { intOption, numberOption } from '../options.ts';
import { checkOutFolder, clearFolder, trainJudge } from '../out-folder.ts';
import { UsageError } from '../usage-error.ts';

const FLAG_KEYS = Object.keys(TrainRecipeSchema.shape) as (keyof TrainRecipe)[];

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a language model from scratch, or fine-tune an HF model folder')
    .requiredOption(
      '--data <file>',
      'a .txt file (pretraining) or .jsonl of {"text"} / {"prompt","answer"} lines',
    )
    .requiredOption(
      '--out <dir>',
      'output model folder (HF format); checkpoints go to <dir>/checkpoints. Must be new or empty, ' +
        'or (with --resume) an earlier lethe train output',
    )
    .option('--force', 'use a non-empty --out anyway: without --resume, what it holds is removed first')
    .option('--model <dir>', 'fine-tune this HF folder instead of training from scratch')
    .option('--config <file>', 'JSON recipe with the options below (flags override it)')
    .option('--resume', 'continue from the checkpoint in <out>/checkpoints if there is one')
    .option(
      '--force-resume',
      'with --resume: continue even if data, tokenizer, recipe or seed differ from the checkpoint',
    )
    .option('--arch <name>', 'from scratch: gpt2 or llama')
    .option('--layers <n>', 'from scratch: blocks', intOption('--layers', 1))
    .option('--hidden <n>', 'from scratch: hidden size', intOption('--hidden', 1))
    .option('--heads <n>', 'from scratch: attention heads', intOption('--heads', 1))
    .option('--kv-heads <n>', 'from scratch (llama): key/value heads', intOption('--kv-heads', 1))
    .option('--context <n>', 'from scratch: longest sequence', intOption('--context', 1))
    .option('--vocab-size <n>', 'from scratch: BPE vocabulary size', intOption('--vocab-size', 260))
    .option('--seq-len <n>', 'token block length for text', intOption('--seq-len', 1))
    .option('--steps <n>', 'optimiser steps', intOption('--steps', 1))
    .option('--epochs <n>', 'passes over the data (instead of --steps)', intOption('--epochs', 1))
    .option('--batch-size <n>', 'sequences per micro-batch', intOption('--batch-size', 1))
    .option('--grad-accum <n>', 'micro-batches per step', intOption('--grad-accum', 1))
    .option('--lr <x>', 'peak learning rate', numberOption('--lr', 0))
    .option('--schedule <kind>', 'constant, linear or cosine')
    .option('--warmup <n>', 'warmup steps', intOption('--warmup', 0))
    .option('--weight-decay <x>', 'AdamW weight decay', numberOption('--weight-decay', 0))
    .option('--clip <x>', 'gradient-norm clip (0 = off)', numberOption('--clip', 0))
    .option('--seed <n>', 'seed for init, shuffling and dropout', intOption('--seed', 0))
    .option(
      '--eval-fraction <x>',
      'share of examples held out for evaluation',
      numberOption('--eval-fraction', 0),
    )
    .option('--eval-every <n>', 'evaluate every n steps', intOption('--eval-every', 1))
    .option(
      '--checkpoint-every <n>',
      'checkpoint every n steps (default: a tenth of the run)',
      intOption('--checkpoint-every', 1),
    )
    .option('--train-only <regex>', 'train only parameters whose HF name matches')
    .option(
      '--lora-rank <r>',
      'fine-tune through LoRA adapters of this rank (merged when done)',
      intOption('--lora-rank', 1),
    )
    .option('--lora-alpha <x>', 'LoRA scale numerator (default: rank)', numberOption('--lora-alpha', 0))
    .option('--lora-targets <regex>', 'modules to adapt (default: attention projections)')
    .option('--lora-dropout <p>', 'LoRA input dropout', numberOption('--lora-dropout', 0))
    .option('--no-chat-template', "with --model: ask {question} lines without the model's chat template");
  cmd.action(async (flags: Record<string, unknown>) => {
    const out = String(flags.out);
    const model = flags.model as string | undefined;
    const real = (p: string) => (existsSync(p) ? realpathSync(p) : resolve(p));
    if (model !== undefined && real(out) === real(model)) {
      throw new UsageError('--out is the --model folder: training would overwrite its own input', {
        where: `--out ${out}`,
        hint: 'write the fine-tuned model to a new folder',
      });
    }
    const resume = Boolean(flags.resume);
    const plan = checkOutFolder({
      dir: out,
      force: Boolean(flags.force),
      judge: trainJudge(resume),
      inputs: [flags.data as string, model, flags.config as string | undefined],
      clearOnForce: !resume,
    });
    const fromFile = flags.config ? readConfigFile(TrainRecipeOverrides, flags.config as string) : {};
    const overrides = Object.fromEntries(
      FLAG_KEYS.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]),
    );
    clearFolder(plan);
    const summary = await trainFromRecipe({
      data: flags.data as string,
      out: flags.out as string,
      recipe: { ...fromFile, ...overrides },
      recipeSource: flags.config ? String(flags.config) : 'command line',
      model,
      resume,
      forceResume: Boolean(flags.forceResume),
      chatTemplate: flags.chatTemplate !== false,
    });
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  });
}
