/**
 * Train a language model from a recipe: from scratch on a text or JSONL file (a byte-level BPE
 * tokenizer is trained first), or by fine-tuning an HF folder (fully, a regex-selected subset, or
 * through LoRA adapters merged at the end). Writes an HF folder, a JSONL metric log and resumable
 * checkpoints. This is what `lethe train` runs; the CLI only turns flags into a recipe.
 */
import { join } from 'node:path';
import { parseConfig } from '../config/load.ts';
import { type TrainRecipe, TrainRecipeSchema } from '../config/train-config.ts';
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { checkFits } from '../models/memory.ts';
import { buildModel, defaultLoraTargets } from '../models/registry.ts';
import { applyLora, mergeLora } from '../nn/lora.ts';
import { modelConfig } from '../study/prepare.ts';
import { Rng } from '../tensor/index.ts';
import { loadPretrained, savePretrained } from '../text/pretrained.ts';
import { applyPromptFormat, keepChatTemplate } from '../text/template.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { readTrainingData } from '../train/text-data.ts';
import { train } from '../train/trainer.ts';

const SPECIALS = ['<|endoftext|>', '<|pad|>'];

export interface TrainFromRecipeOptions {
  /** A .txt file (pretraining) or .jsonl of {"text"} / {"prompt","answer"} lines. */
  data: string;
  /** Output model folder (HF format); checkpoints go to <out>/checkpoints. */
  out: string;
  /** Recipe keys (see TrainRecipeSchema); missing keys take their defaults. */
  recipe?: Partial<TrainRecipe>;
  /** Where the recipe came from, named in errors (a file name, or "command line"). */
  recipeSource?: string;
  /** Fine-tune this HF folder instead of training from scratch. */
  model?: string;
  /** Continue from the checkpoint in <out>/checkpoints when there is one. */
  resume?: boolean;
  /** With `model`: ask {question} lines through its chat template when it has one (default true). */
  chatTemplate?: boolean;
  /** Progress lines on stderr and the trainer's progress display (default true). */
  progress?: boolean;
}

export interface TrainSummary {
  out: string;
  steps: number;
  finalLoss: number;
  evalLoss: number | null;
  seconds: number;
  trainableParameters: number;
}

export async function trainFromRecipe(o: TrainFromRecipeOptions): Promise<TrainSummary> {
  const source = o.recipeSource ?? 'train recipe';
  const recipe = parseConfig(TrainRecipeSchema, o.recipe ?? {}, source);
  if (recipe.steps === undefined && recipe.epochs === undefined) recipe.epochs = 1;
  if (recipe.steps !== undefined && recipe.epochs !== undefined) {
    throw new ConfigError('give either steps or epochs, not both', { where: source });
  }
  const say = (m: string) => o.progress !== false && process.stderr.write(`${m}\n`);
  // {question} lines are asked as the fine-tuned model's chat template (if any) would ask them.
  applyPromptFormat({ modelDir: o.model, chatTemplate: o.chatTemplate !== false });
  const data = await readTrainingData(o.data);
  let model: CausalLM;
  let tokenizer: Tokenizer;
  if (o.model) {
    ({ model, tokenizer } = await loadPretrained(o.model));
    if (!recipe.loraRank) checkFits(model.config, 'train', `${o.model}/config.json`);
  } else {
    say(`training a ${recipe.vocabSize}-token BPE tokenizer on ${o.data}`);
    tokenizer = trainByteLevelBpe(data.texts, { vocabSize: recipe.vocabSize, specialTokens: SPECIALS });
    const eos = tokenizer.tokenToId(SPECIALS[0]) ?? 0;
    const config = modelConfig(recipe, tokenizer.vocabSize, eos);
    checkFits(config, 'train', source);
    model = buildModel(config, new Rng(recipe.seed), source);
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
  const epochs = recipe.epochs ?? 1;
  const steps =
    recipe.steps ?? Math.ceil((epochs * Math.ceil(trainSet.length / recipe.batchSize)) / recipe.gradAccum);
  say(
    `${model.modelType}: ${model.numParameters().toLocaleString('en-US')} parameters; ${trainSet.length} training examples, ${evalSet.length} held out; ${steps} steps`,
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
    checkpointDir: join(o.out, 'checkpoints'),
    checkpointEvery: recipe.checkpointEvery ?? Math.max(1, Math.floor(steps / 10)),
    resume: Boolean(o.resume),
    logFile: join(o.out, 'train-log.jsonl'),
    label: 'train',
    ...(o.progress === false ? { progress: false } : {}),
  });
  if (lora) mergeLora(model);
  await savePretrained(o.out, model, tokenizer);
  await keepChatTemplate(o.out);
  return {
    out: o.out,
    steps: result.steps,
    finalLoss: result.finalLoss,
    evalLoss: result.evalLoss,
    seconds: result.seconds,
    trainableParameters: result.trainableParameters,
  };
}
