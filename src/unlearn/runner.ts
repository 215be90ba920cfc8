/**
 * Running an unlearning method on a model: builds the method's context (forget/retain examples,
 * refusal and random answers, cached reference log-probs, a frozen reference when asked for),
 * applies the modifiers every gradient method accepts (saliency masks, layer selection, LoRA,
 * optimiser choice, early stopping on memorisation), and runs one request or a sequence of them.
 *
 * Arguments are one flat map: the shared training arguments below plus the method's own; unknown
 * keys are errors naming the method's valid keys.
 */
import { z } from 'zod';
import { configIssue } from '../config/load.ts';
import type { Task } from '../data/task.ts';
import { ConfigError, DataError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { cloneModel, defaultLoraTargets } from '../models/registry.ts';
import { applyLora, mergeLora } from '../nn/lora.ts';
import { Rng } from '../tensor/index.ts';
import { qaExample, splitExamples } from '../text/format.ts';
import { scoreSequences } from '../text/score.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import type { Example } from '../train/batching.ts';
import { memorisationAccuracy } from '../train/memorisation.ts';
import { type StepLog, type TrainResult, train } from '../train/trainer.ts';
import { unlearnSource } from './batches.ts';
import { getMethod } from './registry.ts';
import { saliencyMasks } from './saliency.ts';
import type { InputTransform, MethodContext, UnlearnMethod } from './types.ts';

/** Arguments every gradient method accepts (documented defaults). */
export const TrainingArgs = z.object({
  steps: z.number().int().positive().optional(),
  epochs: z.number().int().positive().default(5),
  lr: z.number().positive().default(1e-4),
  batchSize: z.number().int().positive().default(8),
  gradAccum: z.number().int().positive().default(1),
  warmup: z.number().int().nonnegative().default(0),
  weightDecay: z.number().nonnegative().default(0),
  clip: z.number().nonnegative().default(1),
  schedule: z.enum(['constant', 'linear', 'cosine']).default('constant'),
  /** Saliency mask: none, gradient magnitude (SalUn) or weight attribution (WAGLE). */
  mask: z.enum(['none', 'grad', 'wagle']).default('none'),
  /** Share of weights the mask keeps trainable. */
  maskSparsity: z.number().gt(0).max(1).default(0.1),
  /** Train only parameters whose HF name matches this regex. */
  layers: z.string().optional(),
  /** Train through LoRA adapters of this rank (merged at the end). */
  lora: z.number().int().positive().optional(),
  loraTargets: z.string().optional(),
  optimizer: z.enum(['adamw', 'sophia']).default('adamw'),
  /** Stop once memorisation accuracy on forget falls to its holdout level (checked every evalEvery steps). */
  earlyStop: z.boolean().default(false),
  evalEvery: z.number().int().positive().default(5),
  /** Split the forget set into this many requests applied one after another. */
  requests: z.number().int().positive().default(1),
  /** Longest example in tokens (default: the model's context). */
  maxLen: z.number().int().positive().optional(),
});
export type TrainingArgs = z.infer<typeof TrainingArgs>;

/** Parse `k=v` strings: values are JSON when they parse as JSON, strings otherwise. */
export function parseArgStrings(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new ConfigError('invalid --arg', { expected: 'key=value', found: p });
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    out[p.slice(0, eq)] = value;
  }
  return out;
}

/** Validate a method's arguments merged with the shared training arguments. */
export function resolveArgs(
  method: UnlearnMethod,
  raw: Record<string, unknown>,
): Record<string, unknown> & TrainingArgs {
  const own = method.args as unknown as z.ZodObject;
  const schema = (method.kind === 'gradient' ? own.extend(TrainingArgs.shape) : own).strict();
  const parsed = schema.safeParse({ ...(method.trainingDefaults ?? {}), ...raw });
  if (!parsed.success) {
    const err = configIssue(parsed.error, `method ${method.name} arguments`);
    throw new ConfigError(err.message.split('\n')[0], {
      ...err.details,
      hint: `valid keys: ${Object.keys(schema.shape).join(', ')}`,
    });
  }
  return parsed.data as Record<string, unknown> & TrainingArgs;
}

export interface UnlearnOptions {
  model: CausalLM;
  tokenizer: Tokenizer;
  task: Task;
  method: string;
  args?: Record<string, unknown>;
  seed?: number;
  progress?: boolean;
  logFile?: string;
  checkpointDir?: string;
  resume?: boolean;
}

export interface UnlearnResult {
  method: string;
  args: Record<string, unknown>;
  /** Per request: steps taken, final loss, time. */
  requests: { steps: number; finalLoss: number; seconds: number; stoppedEarly: boolean }[];
  trainableParameters: number;
  transform: InputTransform | null;
  seconds: number;
}

/** The forget/retain/holdout examples of a task in lethe's one format. */
export function taskExamples(tok: Tokenizer, task: Task, maxLen: number) {
  const forget = splitExamples(tok, task.splits.forget, maxLen);
  if (forget.length === 0) {
    throw new DataError('the forget set is empty', {
      where: `task ${task.name}`,
      hint: 'nothing to unlearn',
    });
  }
  return {
    forget,
    retain: splitExamples(tok, task.splits.retain, maxLen),
    holdout: splitExamples(tok, task.splits.holdout, maxLen),
  };
}

function buildContext(
  o: UnlearnOptions,
  method: UnlearnMethod,
  args: Record<string, unknown> & TrainingArgs,
  forgetSplit: Task['splits']['forget'],
  log: (m: string) => void,
): MethodContext {
  const tok = o.tokenizer;
  const seed = o.seed ?? 0;
  const needs = method.needs ?? {};
  const forget = splitExamples(tok, forgetSplit, args.maxLen ?? o.model.maxPositions);
  const retain = needs.retain
    ? splitExamples(tok, o.task.splits.retain, args.maxLen ?? o.model.maxPositions)
    : [];
  if (needs.retain && retain.length === 0) {
    throw new DataError(`method ${method.name} needs retain data and the task has none`, {
      where: `task ${o.task.name}`,
    });
  }
  const questions = forgetSplit.qa;
  const idkAnswers = o.task.idk.length > 0 ? o.task.idk : ["I don't know."];
  const idk: Example[] = needs.idk
    ? forget.map((_, i) =>
        i < questions.length
          ? qaExample(tok, questions[i].question, idkAnswers[i % idkAnswers.length])
          : forget[i],
      )
    : [];
  // Random answers: answers of other QA items of the task (wrong for this question).
  const pool = [...o.task.splits.retain.qa, ...forgetSplit.qa].map((q) => q.answer);
  const rng = new Rng(seed + 7);
  const random: Example[][] = Array.from({ length: needs.randomAnswers ?? 0 }, () =>
    forget.map((f, i) => {
      if (i >= questions.length) return f;
      let answer = pool[rng.int(0, pool.length)];
      if (answer === questions[i].answer && pool.length > 1)
        answer = pool[(pool.indexOf(answer) + 1) % pool.length];
      return qaExample(tok, questions[i].question, answer);
    }),
  );
  let refLogp: MethodContext['refLogp'] = null;
  if (needs.referenceLogProbs) {
    // Computed once, before any update: no second model needs to stay in memory.
    const lp = (ex: Example[]) =>
      Float32Array.from(
        scoreSequences(
          o.model,
          ex.map((e) => ({ ids: e.ids, start: e.start })),
          { batchSize: args.batchSize },
        ),
        (r) => -r.nll,
      );
    refLogp = { forget: lp(forget), idk: needs.idk ? lp(idk) : null };
  }
  return {
    model: o.model,
    tokenizer: tok,
    task: o.task,
    args,
    seed,
    forget,
    retain,
    idk,
    random,
    reference: needs.referenceModel ? cloneModel(o.model) : null,
    refLogp,
    state: {},
    log,
  };
}

async function runGradient(
  o: UnlearnOptions,
  method: UnlearnMethod,
  ctx: MethodContext,
  args: TrainingArgs,
  holdout: Example[],
  label: string,
): Promise<TrainResult> {
  const model = o.model;
  const layers = args.layers ? new RegExp(args.layers) : null;
  const selectable = (n: string) => (method.trainable?.(n, ctx) ?? true) && (!layers || layers.test(n));
  const lora = args.lora
    ? applyLora(model, {
        targets: args.loraTargets ?? defaultLoraTargets(model.modelType, 'attention-mlp'),
        rank: args.lora,
        seed: ctx.seed,
      })
    : null;
  const trainable = (n: string) => (lora ? lora.trainable(n) : selectable(n));
  const params = model.namedParameters().filter(([n]) => trainable(n));
  if (params.length === 0) {
    throw new ConfigError(`no parameter matches the trainable selection of ${method.name}`, {
      hint: args.layers ? `check layers=${args.layers}` : undefined,
    });
  }
  const masks =
    args.mask === 'none'
      ? undefined
      : saliencyMasks(model, ctx.forget, ctx.retain, params, {
          kind: args.mask,
          sparsity: args.maskSparsity,
          batchSize: args.batchSize,
        });
  const holdoutMa = args.earlyStop ? memorisationAccuracy(model, holdout, args.batchSize) : Number.NaN;
  const source = unlearnSource(ctx, method.needs ?? {}, args.batchSize);
  try {
    return await train(model, source, {
      steps: args.steps,
      epochs: args.steps === undefined ? args.epochs : undefined,
      batchSize: args.batchSize,
      gradAccum: args.gradAccum,
      lr: args.lr,
      schedule: args.schedule,
      warmupSteps: args.warmup,
      weightDecay: args.weightDecay,
      clipNorm: args.clip,
      seed: ctx.seed,
      trainable,
      masks,
      optimizer: args.optimizer,
      // Sophia's curvature is estimated on the forget batch, where the update acts.
      curvatureBatch: (b) => b.forget,
      loss: (_m, batch) => method.loss!(ctx, batch),
      evalEvery: args.earlyStop ? args.evalEvery : undefined,
      evaluate: args.earlyStop
        ? (m) => ({ forgetMA: memorisationAccuracy(m, ctx.forget, args.batchSize), holdoutMA: holdoutMa })
        : undefined,
      onStep: (l: StepLog) =>
        args.earlyStop && l.forgetMA !== undefined && l.forgetMA <= holdoutMa ? 'stop' : undefined,
      progress: o.progress,
      logFile: o.logFile,
      checkpointDir: o.checkpointDir,
      checkpointEvery: o.checkpointDir ? args.evalEvery : undefined,
      resume: o.resume,
      label,
    });
  } finally {
    if (lora) mergeLora(model);
  }
}

/** Split a forget split into `n` consecutive requests (QA, text and tokens each divided evenly). */
function requestsOf(split: Task['splits']['forget'], n: number): Task['splits']['forget'][] {
  const part = <T>(xs: T[], i: number) =>
    xs.slice(Math.floor((i * xs.length) / n), Math.floor(((i + 1) * xs.length) / n));
  return Array.from({ length: n }, (_, i) => ({
    qa: part(split.qa, i),
    text: part(split.text, i),
    tokens: part(split.tokens, i),
  }));
}

export async function unlearn(o: UnlearnOptions): Promise<UnlearnResult> {
  const started = performance.now();
  const method = getMethod(o.method);
  const args = resolveArgs(method, o.args ?? {});
  const log = (m: string) => {
    if (o.progress !== false) process.stderr.write(`${method.name}: ${m}\n`);
  };
  const maxLen = args.maxLen ?? o.model.maxPositions;
  const { holdout } = taskExamples(o.tokenizer, o.task, maxLen);
  const requests =
    method.kind === 'gradient' ? requestsOf(o.task.splits.forget, args.requests) : [o.task.splits.forget];
  const results: UnlearnResult['requests'] = [];
  let trainableParameters = 0;
  let transform: InputTransform | null = null;
  for (const [r, split] of requests.entries()) {
    const t0 = performance.now();
    const ctx = buildContext(o, method, args, split, log);
    if (ctx.forget.length === 0) continue;
    await method.setup?.(ctx);
    if (method.kind === 'gradient') {
      const label = requests.length > 1 ? `${method.name} request ${r + 1}/${requests.length}` : method.name;
      const res = await runGradient(o, method, ctx, args, holdout, label);
      trainableParameters = res.trainableParameters;
      results.push({
        steps: res.steps,
        finalLoss: res.finalLoss,
        seconds: res.seconds,
        stoppedEarly: res.stoppedEarly,
      });
    } else if (method.kind === 'weights') {
      await method.apply!(ctx);
      trainableParameters = o.model.numParameters();
      results.push({
        steps: 0,
        finalLoss: Number.NaN,
        seconds: (performance.now() - t0) / 1000,
        stoppedEarly: false,
      });
    } else {
      transform = method.transform!(ctx);
      results.push({
        steps: 0,
        finalLoss: Number.NaN,
        seconds: (performance.now() - t0) / 1000,
        stoppedEarly: false,
      });
    }
  }
  return {
    method: method.name,
    args,
    requests: results,
    trainableParameters,
    transform,
    seconds: (performance.now() - started) / 1000,
  };
}
