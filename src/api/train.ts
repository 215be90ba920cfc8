/**
 * Train a language model from a recipe: from scratch on a text or JSONL file (a byte-level BPE
 * tokenizer is trained first), or by fine-tuning an HF folder (fully, a regex-selected subset, or
 * through LoRA adapters merged at the end). Writes an HF folder, a JSONL metric log and resumable
 * checkpoints. This is what `lethe train` runs; the CLI only turns flags into a recipe.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConfig } from '../config/load.ts';
import { type TrainRecipe, TrainRecipeSchema } from '../config/train-config.ts';
import { ConfigError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { checkFits } from '../models/memory.ts';
import { buildModel } from '../models/registry.ts';
import { modelConfig } from '../study/prepare.ts';
import { Rng } from '../tensor/index.ts';
import { loadPretrained, savePretrained } from '../text/pretrained.ts';
import { applyPromptFormat, keepChatTemplate } from '../text/template.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { checkResumable } from '../train/checkpoint.ts';
import { recipeWeights } from '../train/recipe-weights.ts';
import { openTrainingData, removeStaleWorkDirs, splitOrder } from '../train/text-data.ts';
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
  /** Continue from the checkpoint in <out>/checkpoints when there is one (same data, tokenizer, recipe and seed). */
  resume?: boolean;
  /** With resume: continue even if data, tokenizer, recipe or seed differ from the checkpoint. */
  forceResume?: boolean;
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
  const out = o.out;
  if (o.model) refuseInPlace(o.model, out);
  // {question} lines are asked as the fine-tuned model's chat template (if any) would ask them.
  applyPromptFormat({ modelDir: o.model, chatTemplate: o.chatTemplate !== false });
  const corpus = await openTrainingData(o.data);
  // What a resumed run must share with the checkpoint, besides the trainer's own options.
  const fingerprint = {
    ...Object.fromEntries(
      Object.entries(recipe)
        .filter(([k]) => k !== 'evalEvery' && k !== 'checkpointEvery')
        .map(([k, v]) => [k, v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : v]),
    ),
    data: corpus.sha256,
    base: o.model ? baseFingerprint(o.model) : null,
  } as Record<string, string | number | boolean | null>;
  const store = { dir: join(out, 'checkpoints') };
  const forceHint = '--force-resume';
  if (o.resume) await checkResumable(store, fingerprint, Boolean(o.forceResume), forceHint);
  let model: CausalLM;
  let tokenizer: Tokenizer;
  if (o.model) {
    ({ model, tokenizer } = await loadPretrained(o.model));
    if (!recipe.loraRank) checkFits(model.config, 'train', `${o.model}/config.json`);
  } else {
    say(`training a ${recipe.vocabSize}-token BPE tokenizer on ${o.data}`);
    tokenizer = trainByteLevelBpe(await corpus.sample(), {
      vocabSize: recipe.vocabSize,
      specialTokens: SPECIALS,
    });
    const eos = tokenizer.tokenToId(SPECIALS[0]) ?? 0;
    const config = modelConfig(recipe, tokenizer.vocabSize, eos);
    checkFits(config, 'train', source);
    model = buildModel(config, new Rng(recipe.seed), source);
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
    const weights = recipeWeights(model, recipe, recipe.seed);
    const epochs = recipe.epochs ?? 1;
    const steps =
      recipe.steps ?? Math.ceil((epochs * Math.ceil(trainIdx.length / recipe.batchSize)) / recipe.gradAccum);
    say(
      `${model.modelType}: ${model.numParameters().toLocaleString('en-US')} parameters; ${trainIdx.length} training examples, ${nEval} held out; ${steps} steps`,
    );
    if (trainIdx.length === 0) {
      throw new ConfigError('no training examples are left after holding out the evaluation share', {
        where: o.data,
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
      trainable: weights.trainable,
      evalExamples: nEval ? evalSet : undefined,
      evalEvery: nEval ? (recipe.evalEvery ?? Math.max(1, Math.floor(steps / 10))) : undefined,
      checkpointDir: store.dir,
      checkpointEvery: recipe.checkpointEvery ?? Math.max(1, Math.floor(steps / 10)),
      resume: Boolean(o.resume),
      fingerprint,
      forceResume: Boolean(o.forceResume),
      forceResumeHint: forceHint,
      logFile: join(out, 'train-log.jsonl'),
      label: 'train',
      ...(o.progress === false ? { progress: false } : {}),
    });
    weights.finish();
  } finally {
    examples.close();
    removeStaleWorkDirs(out, workPrefix);
  }
  await savePretrained(out, model, tokenizer);
  await keepChatTemplate(out);
  return {
    out,
    steps: result.steps,
    finalLoss: result.finalLoss,
    evalLoss: result.evalLoss,
    seconds: result.seconds,
    trainableParameters: result.trainableParameters,
  };
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
