/**
 * `lethe prepare`: the two models every study is graded with — the **target**, trained on
 * forget ∪ retain, and the **oracle**, trained on retain only with the same recipe and seed (the
 * gold standard: what unlearning should approach). Both are cached under a key hashing the
 * recipe, the task's data, the seed and lethe's version, and published atomically (built in a
 * temporary folder, then renamed), so later commands and concurrent runs reuse them safely.
 * With `base`, both are fine-tuned from that HF folder with the fine-tuning recipe
 * (DEFAULT_FINETUNE_RECIPE under the caller's overrides; LoRA when loraRank is set, merged at the
 * end), and prepare.json records `mode: "fine-tune"` with only the keys that apply to it.
 * prepare.json records each model's hash (identity.ts) and its real training cost.
 *
 * With `jobs` ≥ 2 the target and the oracle train at once, each in a child process tied to this
 * one (child.ts) with `threads` native threads, inside the same private folder; the parent holds
 * the lock, waits for both and publishes as before. Each model's training is the same function
 * either way (`trainRole`), resumable from its own checkpoints, and its result does not depend on
 * the thread count (the kernels split work by shape only), so both ways give the same bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { backend } from '../backend/index.ts';
import { type TrainRecipe, TrainRecipeSchema } from '../config/train-config.ts';
import { contentHash, loadTask, requireForgetData, type Task, taskHash, writeTask } from '../data/index.ts';
import { LetheError } from '../errors.ts';
import { writeJsonAtomic } from '../io/atomic.ts';
import { removeAbandonedPartials, withLock } from '../io/lock.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { buildModel } from '../models/registry.ts';
import { Rng } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { splitExamples } from '../text/format.ts';
import { loadPretrained, savePretrained } from '../text/pretrained.ts';
import { activePromptFormat, DEFAULT_QA_TEMPLATE, keepChatTemplate } from '../text/template.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { trainByteLevelBpe } from '../text/tokenizer/train-bpe.ts';
import { packedSource } from '../train/batching.ts';
import { recipeWeights } from '../train/recipe-weights.ts';
import { train } from '../train/trainer.ts';
import { childMainArgs, spawnTied } from './child.ts';
import { LETHE_VERSION, modelHash } from './identity.ts';

/** Bump when a change to lethe alters what prepare produces. */
export const PREPARE_VERSION = 2;
const SPECIALS = ['<|endoftext|>', '<|pad|>'];

/** The default recipe: a small GPT-2 that memorises the synthetic benchmark in a few minutes on 2 cores. */
export const DEFAULT_PREPARE_RECIPE: Partial<TrainRecipe> = {
  arch: 'gpt2',
  layers: 4,
  hidden: 128,
  heads: 4,
  context: 256,
  vocabSize: 2048,
  epochs: 8,
  batchSize: 16,
  lr: 3e-3,
  warmup: 30,
  weightDecay: 0.01,
};

/**
 * The recipe for fine-tuning a pretrained base (`prepare --base`): TOFU's (Maini et al. 2024:
 * AdamW, lr 1e-5, 5 epochs, effective batch 32, weight decay 0.01), not the from-scratch one.
 */
export const DEFAULT_FINETUNE_RECIPE: Partial<TrainRecipe> = {
  epochs: 5,
  batchSize: 8,
  gradAccum: 4,
  lr: 1e-5,
  schedule: 'linear',
  warmup: 0,
  weightDecay: 0.01,
};

/** The recipe keys that mean something when fine-tuning (model shape and tokenizer do not). */
const FINETUNE_KEYS = [
  'context',
  'steps',
  'epochs',
  'batchSize',
  'gradAccum',
  'lr',
  'schedule',
  'warmup',
  'weightDecay',
  'clip',
  'trainOnly',
  'loraRank',
  'loraAlpha',
  'loraTargets',
  'loraDropout',
] as const satisfies readonly (keyof TrainRecipe)[];

/** A recipe completed with the defaults of its mode (fine-tuning with a base, else from scratch). */
const fullRecipe = (recipe: Partial<TrainRecipe> | undefined, base: string | null): TrainRecipe =>
  TrainRecipeSchema.parse({ ...(base ? DEFAULT_FINETUNE_RECIPE : DEFAULT_PREPARE_RECIPE), ...recipe });

/** The recipe as recorded: every key when training from scratch, the fine-tuning keys with a base. */
export function recordedRecipe(recipe: TrainRecipe, base: string | null | undefined): Partial<TrainRecipe> {
  if (!base) return recipe;
  const out: Record<string, unknown> = {};
  for (const k of FINETUNE_KEYS) if (recipe[k] !== undefined) out[k] = recipe[k];
  return out as Partial<TrainRecipe>;
}

export interface PrepareOptions {
  task: Task;
  recipe?: Partial<TrainRecipe>;
  seed?: number;
  cacheDir: string;
  /** Fine-tune this HF folder instead of training from scratch. */
  base?: string;
  progress?: boolean;
  /** 2 or more: train the target and the oracle at once, in two child processes (default 1). */
  jobs?: number;
  /** LETHE_THREADS of each training child (default: inherited). */
  threads?: number;
  /** Threads a training child takes once the other has finished (unset: it keeps `threads`). */
  growThreads?: number;
  /** Where the children run (their relative paths resolve from there); default the working directory. */
  cwd?: string;
}

export type PreparedRole = 'target' | 'oracle';

/** What a training child is asked to do (child-main.ts): train one role into the private folder. */
export interface TrainRoleJob {
  kind: 'train';
  role: PreparedRole;
  /** The private folder being built. */
  work: string;
  /** The task, as written into the private folder, and the hash it must have. */
  task: string;
  taskHash: string;
  recipe?: Partial<TrainRecipe>;
  seed: number;
  base: string | null;
  progress: boolean;
  /** Native threads to take once the other role has finished (its cores are free then). */
  growThreads?: number;
}

export interface Prepared {
  key: string;
  dir: string;
  target: string;
  oracle: string;
  reused: boolean;
  recipe: TrainRecipe;
  info: PrepareInfo;
}

/** What training one model cost: wall time, optimizer steps, tokens and 6·N·tokens FLOPs. */
export interface TrainingCost {
  finalLoss: number;
  steps: number;
  seconds: number;
  /** Tokens run through forward and backward passes (absent in caches written before it was kept). */
  tokens?: number;
  flops?: number;
}

export const TRAINING_FLOPS_FORMULA = '6·N·tokens (forward + backward, N parameters)';

export interface PrepareInfo {
  key: string;
  task: { name: string; hash: string };
  /** 'fine-tune' with a base (recipe: the fine-tuning keys only), else 'from-scratch'. */
  mode: 'from-scratch' | 'fine-tune';
  recipe: Partial<TrainRecipe>;
  seed: number;
  /** The base folder, absolute. */
  base: string | null;
  version: number;
  lethe?: string;
  target: TrainingCost;
  oracle: TrainingCost;
  parameters: number;
  /** modelHash() of each folder (absent in caches written before it was kept). */
  hashes?: { target: string; oracle: string };
}

/** Every text a task holds, for training its tokenizer. */
function taskTexts(task: Task): string[] {
  const out: string[] = [];
  for (const split of Object.values(task.splits)) {
    for (const q of split.qa) out.push(q.question, q.answer);
    for (const t of split.text) out.push(t.text);
  }
  for (const set of Object.values(task.eval.qa))
    for (const q of set) out.push(q.question, q.answer, ...(q.perturbedAnswers ?? []));
  for (const set of Object.values(task.eval.text)) for (const t of set) out.push(t.text);
  for (const set of Object.values(task.eval.verbatim))
    for (const v of set) out.push(v.prompt + v.continuation);
  out.push(...task.idk);
  return out;
}

/** The HF config of a model trained from scratch by a recipe (used by prepare and `lethe train`). */
export function modelConfig(r: TrainRecipe, vocab: number, eos: number): Record<string, unknown> {
  if (r.arch === 'gpt2') {
    return {
      model_type: 'gpt2',
      vocab_size: vocab,
      n_positions: r.context,
      n_embd: r.hidden,
      n_layer: r.layers,
      n_head: r.heads,
      bos_token_id: eos,
      eos_token_id: eos,
    };
  }
  return {
    model_type: 'llama',
    vocab_size: vocab,
    hidden_size: r.hidden,
    intermediate_size: Math.ceil((r.hidden * 8) / 3 / 32) * 32,
    num_hidden_layers: r.layers,
    num_attention_heads: r.heads,
    num_key_value_heads: r.kvHeads ?? r.heads,
    max_position_embeddings: r.context,
    bos_token_id: eos,
    eos_token_id: eos,
    tie_word_embeddings: true,
  };
}

async function trainOne(
  label: string,
  init: () => Promise<{ model: CausalLM; tokenizer: Tokenizer }>,
  examples: Example[],
  recipe: TrainRecipe,
  seed: number,
  out: string,
  progress: boolean,
) {
  const { model, tokenizer } = await init();
  const weights = recipeWeights(model, recipe, seed);
  // Packed rows (train/batching.ts): answers learned behind any prefix, not only at position 0.
  // Rows as long as the context, or the base model's positions when it has fewer.
  const rowLength = Math.min(recipe.context, model.maxPositions);
  const packed = packedSource(examples, recipe.batchSize, rowLength, seed, model.vocabSize);
  const r = await train(model, packed, {
    trainable: weights.trainable,
    epochs: recipe.steps === undefined ? recipe.epochs : undefined,
    steps: recipe.steps,
    batchSize: recipe.batchSize,
    gradAccum: recipe.gradAccum,
    lr: recipe.lr,
    schedule: recipe.schedule,
    warmupSteps: recipe.warmup,
    weightDecay: recipe.weightDecay,
    clipNorm: recipe.clip,
    seed,
    checkpointDir: join(out, 'checkpoints'),
    checkpointEvery: 100,
    resume: true,
    logFile: join(out, 'train-log.jsonl'),
    progress,
    label,
  });
  weights.finish();
  await savePretrained(out, model, tokenizer);
  await keepChatTemplate(out);
  await rm(join(out, 'checkpoints'), { recursive: true, force: true });
  const n = model.numParameters();
  return {
    finalLoss: r.finalLoss,
    steps: r.steps,
    seconds: r.seconds,
    tokens: r.tokens,
    flops: 6 * n * r.tokens,
    parameters: n,
  };
}

interface RoleInputs {
  tokenizer: Tokenizer;
  forget: Example[];
  retain: Example[];
  init: () => Promise<{ model: CausalLM; tokenizer: Tokenizer }>;
}

/** The tokenizer, examples and model initialiser both roles train from (computed once, on first use). */
function roleInputs(
  task: Task,
  recipe: TrainRecipe,
  seed: number,
  base: string | null,
  progress: boolean,
): () => Promise<RoleInputs> {
  let made: Promise<RoleInputs> | null = null;
  const make = async (): Promise<RoleInputs> => {
    const baseModel = base ? await loadPretrained(base) : null;
    const tokenizer = baseModel
      ? baseModel.tokenizer
      : trainByteLevelBpe(taskTexts(task), { vocabSize: recipe.vocabSize, specialTokens: SPECIALS });
    const maxLen = baseModel ? Math.min(recipe.context, baseModel.model.maxPositions) : recipe.context;
    const forget = splitExamples(tokenizer, task.splits.forget, maxLen);
    const retain = splitExamples(tokenizer, task.splits.retain, maxLen);
    const init = async () => {
      if (base) return loadPretrained(base);
      const eos = tokenizer.tokenToId(SPECIALS[0])!;
      return { model: buildModel(modelConfig(recipe, tokenizer.vocabSize, eos), new Rng(seed)), tokenizer };
    };
    if (progress)
      process.stderr.write(
        `prepare: task ${task.name}: ${forget.length} forget, ${retain.length} retain examples\n`,
      );
    return { tokenizer, forget, retain, init };
  };
  return () => {
    made ??= make();
    return made;
  };
}

/**
 * Train one role into `<work>/<role>` (the target on forget ∪ retain, the oracle on retain) and
 * record its cost in `<work>/<role>.json`, the mark that it is finished.
 */
async function trainRole(
  role: PreparedRole,
  work: string,
  inputs: RoleInputs,
  recipe: TrainRecipe,
  seed: number,
  progress: boolean,
): Promise<void> {
  const examples = role === 'target' ? [...inputs.forget, ...inputs.retain] : inputs.retain;
  const r = await trainOne(role, inputs.init, examples, recipe, seed, join(work, role), progress);
  await writeJsonAtomic(join(work, `${role}.json`), r);
}

/** A training child's work (child-main.ts): the same recipe as its parent's prepare, one role. */
export async function runTrainRoleJob(job: TrainRoleJob): Promise<void> {
  const task = await loadTask(job.task);
  if (taskHash(task) !== job.taskHash) {
    throw new LetheError("the task copy a training child read differs from its parent's", {
      where: job.task,
      found: `task hash ${taskHash(task)}`,
      expected: `task hash ${job.taskHash}`,
    });
  }
  const recipe = fullRecipe(job.recipe, job.base);
  const inputs = roleInputs(task, recipe, job.seed, job.base, job.progress);
  // The oracle trains on less data and finishes first; the target then takes its cores rather
  // than leave them idle. Checked between steps (the trainer awaits its log each step), never
  // while a kernel runs; the kernels' results do not depend on the thread count.
  const other = join(job.work, `${job.role === 'target' ? 'oracle' : 'target'}.json`);
  const grow = job.growThreads ?? 0;
  let watch: NodeJS.Timeout | null = null;
  const grown = () => {
    if (!existsSync(other)) return false;
    backend.setThreads(grow);
    if (job.progress) process.stderr.write(`prepare: the other model is done; ${grow} threads now\n`);
    return true;
  };
  if (grow > backend.getThreads() && !grown()) {
    watch = setInterval(() => {
      if (grown() && watch) clearInterval(watch);
    }, 1000);
    watch.unref();
  }
  try {
    await trainRole(job.role, job.work, await inputs(), recipe, job.seed, job.progress);
  } finally {
    if (watch) clearInterval(watch);
  }
}

const cost = (c: TrainingCost): TrainingCost => ({
  finalLoss: c.finalLoss,
  steps: c.steps,
  seconds: c.seconds,
  ...(c.tokens === undefined ? {} : { tokens: c.tokens, flops: c.flops }),
});

/** The target's and oracle's model hashes: from prepare.json, or computed for an older cache. */
export function preparedHashes(p: Prepared): { target: string; oracle: string } {
  return p.info.hashes ?? { target: modelHash(p.target), oracle: modelHash(p.oracle) };
}

export async function prepare(o: PrepareOptions): Promise<Prepared> {
  requireForgetData(o.task, 'prepare');
  const base = o.base ? resolve(o.base) : null;
  const recipe = fullRecipe(o.recipe, base);
  const seed = o.seed ?? 0;
  const tHash = taskHash(o.task);
  // A chat template changes every QA example, so it is part of the key (when one is active).
  const fmt = activePromptFormat();
  const promptKey = fmt.chat
    ? { qa: fmt.qa, chat: fmt.chat.source }
    : fmt.qa === DEFAULT_QA_TEMPLATE
      ? null
      : { qa: fmt.qa };
  const key = contentHash(
    {
      recipe: recordedRecipe(recipe, base),
      task: tHash,
      seed,
      base,
      version: PREPARE_VERSION,
      lethe: LETHE_VERSION,
      ...(promptKey ? { prompt: promptKey } : {}),
    },
    'prepare',
  ).slice(0, 16);
  const dir = join(o.cacheDir, 'models', key);
  const target = join(dir, 'target');
  const oracle = join(dir, 'oracle');
  const infoPath = join(dir, 'prepare.json');
  const progress = o.progress ?? true;
  const cached = async (): Promise<Prepared | null> =>
    existsSync(infoPath)
      ? {
          key,
          dir,
          target,
          oracle,
          reused: true,
          recipe,
          info: JSON.parse(await readFile(infoPath, 'utf8')) as PrepareInfo,
        }
      : null;
  const hit = await cached();
  if (hit) return hit;
  await mkdir(join(o.cacheDir, 'models'), { recursive: true });
  for (const name of removeAbandonedPartials(join(o.cacheDir, 'models'), `${key}.partial`))
    if (progress) process.stderr.write(`prepare: removed ${name}, left by a process that is gone\n`);
  // One process builds a key at a time; the others wait and then reuse what it published.
  return withLock(`${dir}.lock`, async () => (await cached()) ?? build(), {
    onWait: () => progress && process.stderr.write(`prepare: waiting for another process building ${key}\n`),
  });

  async function build(): Promise<Prepared> {
    // Build in a private folder (resumable across interruptions of this process), publish by rename.
    const work = join(o.cacheDir, 'models', `${key}.partial`);
    await mkdir(work, { recursive: true });
    const inputs = roleInputs(o.task, recipe, seed, base, progress);
    const log = (m: string) => progress && process.stderr.write(`prepare: ${m}\n`);
    const finished = (role: PreparedRole): (TrainingCost & { parameters: number }) | null =>
      existsSync(join(work, `${role}.json`))
        ? JSON.parse(readFileSync(join(work, `${role}.json`), 'utf8'))
        : null;
    const todo = (['target', 'oracle'] as const).filter((role) => !finished(role));
    // A chat template or custom QA template is process-wide state a child would not have: in-process then.
    if ((o.jobs ?? 1) >= 2 && todo.length === 2 && !promptKey) {
      log(`training the target and the oracle at once (two processes); cache key ${key}`);
      // The children read the task from a copy in the private folder (removed before publishing).
      const taskFile = await writeTask(join(work, 'task'), o.task);
      const codes = await Promise.all(
        todo.map((role) => {
          const job: TrainRoleJob = {
            kind: 'train',
            role,
            work,
            task: taskFile,
            taskHash: tHash,
            recipe: o.recipe,
            seed,
            base,
            progress,
            ...(o.growThreads ? { growThreads: o.growThreads } : {}),
          };
          return spawnTied([...childMainArgs(), JSON.stringify(job)], o.cwd ?? process.cwd(), {
            threads: o.threads,
            prefix: `[${role}] `,
          });
        }),
      );
      codes.forEach((code, i) => {
        if (code !== 0 || !finished(todo[i])) {
          throw new LetheError(`training the ${todo[i]} failed (exit code ${code})`, {
            where: work,
            hint: 'run the study again: finished work is kept, or `lethe prepare` to see the error alone',
          });
        }
      });
    }
    // (Also when a run that trained in children was interrupted and this one finishes in-process.)
    await rm(join(work, 'task'), { recursive: true, force: true });
    for (const role of todo)
      if (!finished(role)) await trainRole(role, work, await inputs(), recipe, seed, progress);
    const t = finished('target')!;
    const or = finished('oracle')!;
    const info: PrepareInfo = {
      key,
      task: { name: o.task.name, hash: tHash },
      mode: base ? 'fine-tune' : 'from-scratch',
      recipe: recordedRecipe(recipe, base),
      seed,
      base,
      version: PREPARE_VERSION,
      lethe: LETHE_VERSION,
      target: cost(t),
      oracle: cost(or),
      parameters: t.parameters,
      hashes: { target: modelHash(join(work, 'target')), oracle: modelHash(join(work, 'oracle')) },
    };
    await writeJsonAtomic(join(work, 'prepare.json'), info);
    await rename(work, dir);
    return { key, dir, target, oracle, reused: false, recipe, info };
  }
}
