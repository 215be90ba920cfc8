/**
 * `lethe train`: train a model from scratch on a text or JSONL file (a byte-level BPE tokenizer is
 * trained first), or fine-tune an existing HF folder (fully, a regex-selected subset, or through
 * LoRA adapters merged at the end). Writes an HF folder, a JSONL metric log and resumable
 * checkpoints.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseConfig, readConfigFile } from '../../config/load.ts';
import { type TrainRecipe, TrainRecipeOverrides, TrainRecipeSchema } from '../../config/train-config.ts';
import { ConfigError } from '../../errors.ts';
import type { CausalLM } from '../../models/causal-lm.ts';
import { checkFits } from '../../models/memory.ts';
import { buildModel } from '../../models/registry.ts';
import { applyLora, mergeLora } from '../../nn/lora.ts';
import { modelConfig } from '../../study/prepare.ts';
import { Rng } from '../../tensor/index.ts';
import { loadPretrained, savePretrained } from '../../text/pretrained.ts';
import type { Tokenizer } from '../../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../../text/tokenizer/train-bpe.ts';
import { checkResumable } from '../../train/checkpoint.ts';
import { openTrainingData, removeStaleWorkDirs, splitOrder } from '../../train/text-data.ts';
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
    .option('--lora-dropout <p>', 'LoRA input dropout', numberOption('--lora-dropout', 0));
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
    if (flags.model) refuseInPlace(flags.model as string, out);
    const corpus = await openTrainingData(flags.data as string);
    // What a resumed run must share with the checkpoint, besides the trainer's own options.
    const fingerprint = {
      ...Object.fromEntries(
        Object.entries(recipe)
          .filter(([k]) => k !== 'evalEvery' && k !== 'checkpointEvery')
          .map(([k, v]) => [k, v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : v]),
      ),
      data: corpus.sha256,
      base: flags.model ? baseFingerprint(flags.model as string) : null,
    } as Record<string, string | number | boolean | null>;
    const store = { dir: join(out, 'checkpoints') };
    const forceHint = '--force-resume';
    if (flags.resume) await checkResumable(store, fingerprint, Boolean(flags.forceResume), forceHint);
    let model: CausalLM;
    let tokenizer: Tokenizer;
    if (flags.model) {
      ({ model, tokenizer } = await loadPretrained(flags.model as string));
      if (!recipe.loraRank) checkFits(model.config, 'train', `${flags.model}/config.json`);
    } else {
      process.stderr.write(`training a ${recipe.vocabSize}-token BPE tokenizer on ${flags.data}\n`);
      tokenizer = trainByteLevelBpe(await corpus.sample(), {
        vocabSize: recipe.vocabSize,
        specialTokens: SPECIALS,
      });
      const eos = tokenizer.tokenToId(SPECIALS[0])!;
      const config = modelConfig(recipe, tokenizer.vocabSize, eos);
      checkFits(config, 'train', 'train recipe');
      model = buildModel(config, new Rng(recipe.seed), 'train recipe');
    }
    fingerprint.tokenizer = createHash('sha256')
      .update(JSON.stringify(tokenizer.toJSON()))
      .digest('hex')
      .slice(0, 16);
    // Token ids go to a private folder under out (removed at the end; a crashed run's is removed here).
    const workPrefix = '.tokens.tmp-';
    removeStaleWorkDirs(out, workPrefix);
    const examples = await corpus.tokenize(
      tokenizer,
      Math.min(recipe.seqLen, model.maxPositions - 1),
      join(out, `${workPrefix}${process.pid}`),
    );
    let result: Awaited<ReturnType<typeof train>>;
    try {
      const n = examples.length;
      const nEval = Math.floor(n * recipe.evalFraction);
      const order = splitOrder(n, recipe.seed + 1);
      const evalSet = examples.view(order.subarray(0, nEval));
      const trainIdx = order.subarray(nEval);
      let trainable: ((n: string) => boolean) | undefined;
      if (recipe.trainOnly) {
        const re = new RegExp(recipe.trainOnly);
        trainable = (n) => re.test(n);
      }
      const lora = recipe.loraRank
        ? applyLora(model, {
            targets:
              recipe.loraTargets ??
              (model.modelType === 'gpt2' ? 'attn\\.c_attn$' : 'self_attn\\.(q|k|v|o)_proj$'),
            rank: recipe.loraRank,
            alpha: recipe.loraAlpha,
            dropout: recipe.loraDropout,
            seed: recipe.seed,
          })
        : null;
      if (lora) trainable = lora.trainable;
      const steps =
        recipe.steps ??
        Math.ceil((recipe.epochs! * Math.ceil(trainIdx.length / recipe.batchSize)) / recipe.gradAccum);
      process.stderr.write(
        `${model.modelType}: ${model.numParameters().toLocaleString('en-US')} parameters; ${trainIdx.length} training examples, ${nEval} held out; ${steps} steps\n`,
      );
      if (trainIdx.length === 0) {
        throw new ConfigError('no training examples are left after holding out the evaluation share', {
          where: String(flags.data),
          found: `${n} examples, evalFraction ${recipe.evalFraction}`,
        });
      }
      result = await train(model, examples.source(trainIdx, recipe.batchSize, recipe.seed), {
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
        evalExamples: nEval ? evalSet : undefined,
        evalEvery: nEval ? (recipe.evalEvery ?? Math.max(1, Math.floor(steps / 10))) : undefined,
        checkpointDir: store.dir,
        checkpointEvery: recipe.checkpointEvery ?? Math.max(1, Math.floor(steps / 10)),
        resume: Boolean(flags.resume),
        fingerprint,
        forceResume: Boolean(flags.forceResume),
        forceResumeHint: forceHint,
        logFile: join(out, 'train-log.jsonl'),
        label: 'train',
      });
      if (lora) mergeLora(model);
    } finally {
      examples.close();
      removeStaleWorkDirs(out, workPrefix);
    }
    await savePretrained(out, model, tokenizer);
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

/**
 * Refuse to write the output over the model being fine-tuned: a crash during the final save would
 * leave neither the input nor the result usable.
 */
function refuseInPlace(model: string, out: string): void {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  if (existsSync(out) && real(out) === real(model)) {
    throw new ConfigError('--out is the --model folder: training would overwrite its own input', {
      where: `--out ${out}`,
      expected: 'an output folder other than the model being fine-tuned',
      hint: 'write to a new folder (and move it over the old one afterwards if you want to replace it)',
    });
  }
}

/** Identity of a base model folder without reading its weights: config.json and the weight files' sizes. */
function baseFingerprint(dir: string): string {
  const h = createHash('sha256');
  try {
    h.update(readFileSync(join(dir, 'config.json')));
    for (const f of readdirSync(dir).sort())
      if (f.endsWith('.safetensors')) h.update(`${f}:${statSync(join(dir, f)).size}\n`);
  } catch {
    // loadPretrained reports an unreadable folder with its own clear error.
  }
  return h.digest('hex').slice(0, 16);
}
