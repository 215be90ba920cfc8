/**
 * `lethe train`: train a model from scratch on a text or JSONL file (a byte-level BPE tokenizer is
 * trained first), or fine-tune an existing HF folder (fully, a regex-selected subset, or through
 * LoRA adapters merged at the end). Writes an HF folder, a JSONL metric log and resumable
 * checkpoints.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseConfig, readConfigFile } from '../../config/load.ts';
import { type TrainRecipe, TrainRecipeOverrides, TrainRecipeSchema } from '../../config/train-config.ts';
import { ConfigError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { checkFits } from '../../models/memory.ts';
import { buildModel, defaultLoraTargets } from '../../models/registry.ts';
import { applyLora, mergeLora } from '../../nn/lora.ts';
import { modelConfig } from '../../study/prepare.ts';
import { Rng } from '../../tensor/index.ts';
import { loadPretrained, savePretrained } from '../../text/pretrained.ts';
import { applyPromptFormat, keepChatTemplate } from '../../text/template.ts';
import type { Tokenizer } from '../../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../../text/tokenizer/train-bpe.ts';
import { readTrainingData } from '../../train/text-data.ts';
import { train } from '../../train/trainer.ts';
import { intOption, numberOption } from '../options.ts';

const SPECIALS = ['<|endoftext|>', '<|pad|>'];

const FLAG_KEYS = Object.keys(TrainRecipeSchema.shape) as (keyof TrainRecipe)[];

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a language model from scratch, or fine-tune an HF model folder')
    .requiredOption(
      '--data <file>',
      'a .txt file (pretraining) or .jsonl of {"text"} / {"prompt","answer"} lines',
    )
    .requiredOption('--out <dir>', 'output model folder (HF format); checkpoints go to <dir>/checkpoints')
    .option('--model <dir>', 'fine-tune this HF folder instead of training from scratch')
    .option('--config <file>', 'JSON recipe with the options below (flags override it)')
    .option('--resume', 'continue from the checkpoint in <out>/checkpoints if there is one')
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
    const fromFile = flags.config ? readConfigFile(TrainRecipeOverrides, flags.config as string) : {};
    const overrides = Object.fromEntries(
      FLAG_KEYS.filter((k) => flags[k] !== undefined).map((k) => [k, flags[k]]),
    );
    const recipe = parseConfig(
      TrainRecipeSchema,
      { ...fromFile, ...overrides },
      flags.config ? String(flags.config) : 'command line',
    );
    if (recipe.steps === undefined && recipe.epochs === undefined) recipe.epochs = 1;
    if (recipe.steps !== undefined && recipe.epochs !== undefined) {
      throw new ConfigError('give either steps or epochs, not both', { where: 'train recipe' });
    }
    const out = flags.out as string;
    // {question} lines are asked as the fine-tuned model's chat template (if any) would ask them.
    applyPromptFormat({
      modelDir: flags.model as string | undefined,
      chatTemplate: flags.chatTemplate !== false,
    });
    const data = await readTrainingData(flags.data as string);
    let model: CausalLM;
    let tokenizer: Tokenizer;
    if (flags.model) {
      ({ model, tokenizer } = await loadPretrained(flags.model as string));
      if (!recipe.loraRank) checkFits(model.config, 'train', `${flags.model}/config.json`);
    } else {
      process.stderr.write(`training a ${recipe.vocabSize}-token BPE tokenizer on ${flags.data}\n`);
      tokenizer = trainByteLevelBpe(data.texts, { vocabSize: recipe.vocabSize, specialTokens: SPECIALS });
      const eos = tokenizer.tokenToId(SPECIALS[0])!;
      const config = modelConfig(recipe, tokenizer.vocabSize, eos);
      checkFits(config, 'train', 'train recipe');
      model = buildModel(config, new Rng(recipe.seed), 'train recipe');
    }
    const all = data.toExamples(tokenizer, Math.min(recipe.seqLen, model.maxPositions - 1));
    const nEval = Math.floor(all.length * recipe.evalFraction);
    const order = new Rng(recipe.seed + 1).shuffle(all.map((_, i) => i));
    const evalSet = order.slice(0, nEval).map((i) => all[i]);
    const trainSet = order.slice(nEval).map((i) => all[i]);
    let trainable: ((n: string) => boolean) | undefined;
    if (recipe.trainOnly) {
      const re = new RegExp(recipe.trainOnly);
      trainable = (n) => re.test(n);
    }
    const lora = recipe.loraRank
      ? applyLora(model, {
          targets: recipe.loraTargets ?? defaultLoraTargets(model.modelType, 'attention'),
          rank: recipe.loraRank,
          alpha: recipe.loraAlpha,
          dropout: recipe.loraDropout,
          seed: recipe.seed,
        })
      : null;
    if (lora) trainable = lora.trainable;
    const steps =
      recipe.steps ??
      Math.ceil((recipe.epochs! * Math.ceil(trainSet.length / recipe.batchSize)) / recipe.gradAccum);
    process.stderr.write(
      `${model.modelType}: ${model.numParameters().toLocaleString('en-US')} parameters; ${trainSet.length} training examples, ${evalSet.length} held out; ${steps} steps\n`,
    );
    const result = await train(model, trainSet, {
      steps,
      batchSize: recipe.batchSize,
      gradAccum: recipe.gradAccum,
      lr: recipe.lr,
      schedule: recipe.schedule,
      warmupSteps: recipe.warmup,
      weightDecay: recipe.weightDecay,
      clipNorm: recipe.clip,
      seed: recipe.seed,
      trainable,
      evalExamples: evalSet.length ? evalSet : undefined,
      evalEvery: evalSet.length ? (recipe.evalEvery ?? Math.max(1, Math.floor(steps / 10))) : undefined,
      checkpointDir: join(out, 'checkpoints'),
      checkpointEvery: recipe.checkpointEvery ?? Math.max(1, Math.floor(steps / 10)),
      resume: Boolean(flags.resume),
      logFile: join(out, 'train-log.jsonl'),
      label: 'train',
    });
    if (lora) mergeLora(model);
    await savePretrained(out, model, tokenizer);
    await keepChatTemplate(out);
    const summary = {
      out,
      steps: result.steps,
      finalLoss: result.finalLoss,
      evalLoss: result.evalLoss,
      seconds: result.seconds,
      trainableParameters: result.trainableParameters,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  });
}
