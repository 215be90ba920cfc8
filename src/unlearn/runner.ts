/**
 * Running an unlearning method on a model: builds the method's context (forget/retain examples,
 * refusal and random answers, cached reference log-probs, a frozen reference when asked for),
 * applies the modifiers every gradient method accepts (saliency masks, layer selection, LoRA,
 * optimiser choice, early stopping on memorisation), and runs one request or a sequence of them.
 *
 * Arguments are one flat map: the shared training arguments below plus the method's own; unknown
 * keys are errors naming the method's valid keys.
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { configIssue } from '../config/load.ts';
import type { Task } from '../data/task.ts';
import { ConfigError, DataError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { cloneModel, defaultLoraTargets } from '../models/registry.ts';
import { applyLora, mergeLora } from '../nn/lora.ts';
import { Rng } from '../tensor/index.ts';
import type { Example } from '../text/batch.ts';
import { qaExample, splitExamples } from '../text/format.ts';
import { scoreSequences } from '../text/score.ts';
import type { Tokenizer } from '../text/tokenizer/tokenizer.ts';
import { type StepLog, type TrainResult, train } from '../train/trainer.ts';
import { unlearnSource } from './batches.ts';
import { measureMemorisation, reachedHoldout } from './early-stop.ts';
import { getMethod } from './registry.ts';
import { saliencyMasks } from './saliency.ts';
import type {
  GradientMethod,
  GradientRun,
  InputTransform,
  ItemPart,
  RunContext,
  TrainingStage,
  UnlearnMethod,
} from './types.ts';

/** True when `source` compiles as a JavaScript regular expression. */
const isRegex = (source: string): boolean => {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
};
const regexArg = () => z.string().refine(isRegex, { message: 'not a valid regular expression' });

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
  layers: regexArg().optional(),
  /** Train through LoRA adapters of this rank (merged at the end). */
  lora: z.number().int().positive().optional(),
  loraTargets: regexArg().optional(),
  optimizer: z.enum(['adamw', 'sophia']).default('adamw'),
  /**
   * Stop once memorisation accuracy AND extraction likelihood on forget fall to their holdout
   * levels (Jang et al.; checked every evalEvery steps, see early-stop.ts).
   */
  earlyStop: z.boolean().default(false),
  /** n of the extraction likelihood EL_n used by earlyStop (Jang et al. use 10 on long sequences). */
  elN: z.number().int().positive().default(5),
  evalEvery: z.number().int().positive().default(5),
  /**
   * Split the forget set into this many requests applied one after another; items are grouped by
   * subject (see subjectOf), so one person's QA and biography go in the same request.
   */
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
  const own = method.args;
  const gradient = method.kind === 'gradient';
  const schema = (gradient ? own.extend(TrainingArgs.shape) : own).strict();
  const parsed = schema.safeParse({ ...(gradient ? method.trainingDefaults : undefined), ...raw });
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
  /** Forget items of kinds the method does not support, left out (by kind; empty when none). */
  leftOut: Partial<Record<ItemPart, number>>;
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
  trainingStage: RunContext['trainingStage'],
): RunContext {
  const tok = o.tokenizer;
  const seed = o.seed ?? 0;
  const needs = method.needs;
  const forget = splitExamples(tok, forgetSplit, args.maxLen ?? o.model.maxPositions);
  const retain = needs.retain
    ? splitExamples(tok, o.task.splits.retain, args.maxLen ?? o.model.maxPositions)
    : null;
  if (retain && retain.length === 0) {
    throw new DataError(`method ${method.name} needs retain data and the task has none`, {
      where: `task ${o.task.name}`,
    });
  }
  const questions = forgetSplit.qa;
  // Refusals and random answers exist for questions only: a method that needs them supports QA
  // alone, so its forget examples are exactly the QA items (left-out kinds are counted upstream).
  if ((needs.idk || randomCount(method, args) > 0) && forget.length !== questions.length) {
    throw new ConfigError(
      `method ${method.name} needs refusal or random answers but its forget set is not all QA`,
      {
        hint: "declare supports: ['qa'] on the method",
      },
    );
  }
  const idkAnswers = o.task.idk.length > 0 ? o.task.idk : ["I don't know."];
  const idk: Example[] | null = needs.idk
    ? questions.map((q, i) => qaExample(tok, q.question, idkAnswers[i % idkAnswers.length]))
    : null;
  const k = randomCount(method, args);
  const random = k > 0 ? randomAnswerExamples(tok, o.task, questions, k, seed) : null;
  let refLogp: RunContext['refLogp'] = null;
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
    refLogp = { forget: lp(forget), idk: idk ? lp(idk) : null };
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
    log,
    trainingStage,
  };
}

/**
 * The modules LoRA adapts: those matching `loraTargets` (default: the method's own trainable set
 * when it declares one, e.g. RMU's MLP down-projections; else attention and MLP input projections)
 * whose weight the method and `layers=` allow to change. Returned as an exact-name pattern.
 */
export function loraTargets(
  model: CausalLM,
  method: GradientMethod,
  args: TrainingArgs,
  selectable: (paramName: string) => boolean,
): RegExp {
  const pattern = new RegExp(
    args.loraTargets ??
      (method.restrictsParameters ? '.' : defaultLoraTargets(model.modelType, 'attention-mlp')),
  );
  const names = model
    .namedParameters()
    .map(([n]) => n)
    .filter((n) => n.endsWith('.weight') && selectable(n))
    .map((n) => n.slice(0, -'.weight'.length))
    .filter((m) => pattern.test(m));
  if (names.length === 0) {
    throw new ConfigError(`lora: no module is both a LoRA target and trainable by ${method.name}`, {
      expected: `modules matching ${pattern}${args.layers ? ` and layers=${args.layers}` : ''}`,
      hint: 'widen loraTargets or layers',
    });
  }
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^(?:${names.map(esc).join('|')})$`);
}

async function runGradient(
  o: UnlearnOptions,
  method: GradientMethod,
  run: GradientRun,
  ctx: RunContext,
  args: TrainingArgs,
  holdout: Example[],
  label: string,
): Promise<TrainResult> {
  const model = o.model;
  const layers = args.layers ? new RegExp(args.layers) : null;
  const selectable = (n: string) => run.trainable(n) && (!layers || layers.test(n));
  const lora = args.lora
    ? applyLora(model, {
        targets: loraTargets(model, method, args, selectable),
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
      : saliencyMasks(model, ctx.forget, ctx.retain ?? [], params, {
          kind: args.mask,
          sparsity: args.maskSparsity,
          batchSize: args.batchSize,
        });
  const el = { n: args.elN, positions: 2, maxNewTokens: 2 * args.elN, maxItems: 32, seed: ctx.seed };
  const holdoutMem = args.earlyStop ? measureMemorisation(model, holdout, args.batchSize, el) : null;
  if (holdoutMem && Number.isNaN(holdoutMem.el)) {
    ctx.log(
      `earlyStop: no holdout sequence has ${args.elN} scored tokens for EL_${args.elN}; stopping on MA alone`,
    );
  }
  const source = unlearnSource(ctx, method.needs, args.batchSize);
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
      loss: (_m, batch) => run.loss(batch),
      evalEvery: args.earlyStop ? args.evalEvery : undefined,
      evaluate: holdoutMem
        ? (m) => {
            const f = measureMemorisation(m, ctx.forget, args.batchSize, el);
            return { forgetMA: f.ma, holdoutMA: holdoutMem.ma, forgetEL: f.el, holdoutEL: holdoutMem.el };
          }
        : undefined,
      onStep: (l: StepLog) =>
        holdoutMem &&
        l.forgetMA !== undefined &&
        reachedHoldout({ ma: l.forgetMA, el: l.forgetEL }, holdoutMem)
          ? 'stop'
          : undefined,
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

const normalAnswer = (a: string) => a.trim().replace(/\s+/g, ' ').toLowerCase();

/** How many random-answer variants the method asks for with these arguments. */
function randomCount(method: UnlearnMethod, args: Record<string, unknown>): number {
  return method.needs.randomAnswers?.(args) ?? 0;
}

/**
 * K variants of the forget questions, each answered with a random answer drawn from the task's
 * retain QA answers. Forget answers are never in the pool: training toward another forgotten
 * person's answer would teach forget data, not a wrong label.
 */
export function randomAnswerExamples(
  tok: Tokenizer,
  task: Task,
  questions: Task['splits']['forget']['qa'],
  k: number,
  seed: number,
): Example[][] {
  if (k === 0) return [];
  const forgotten = new Set(task.splits.forget.qa.map((q) => normalAnswer(q.answer)));
  const pool = [...new Set(task.splits.retain.qa.map((q) => q.answer))].filter(
    (a) => !forgotten.has(normalAnswer(a)),
  );
  if (pool.length === 0) {
    throw new DataError('no random answers: the retain QA answers are all forget answers or absent', {
      where: `task ${task.name}`,
      hint: 'random-label draws its wrong answers from retain QA items',
    });
  }
  const rng = new Rng(seed + 7);
  return Array.from({ length: k }, () =>
    questions.map((q) => qaExample(tok, q.question, pool[rng.int(0, pool.length)])),
  );
}

/**
 * The subject an item is about, from its id: everything up to the end of its first number
 * ("person-12-bio" and "person-12-email" → "person-12", "passage-3-verbatim" → "passage-3"); an
 * id without a number is its own subject.
 */
export function subjectOf(id: string): string {
  const m = /^\D*\d+/.exec(id);
  return m ? m[0] : id;
}

/** The forget items of the kinds `method` supports, and how many of each other kind were left out. */
export function supportedForget(
  method: UnlearnMethod,
  split: Task['splits']['forget'],
): { split: Task['splits']['forget']; leftOut: Partial<Record<ItemPart, number>> } {
  const kinds = new Set<ItemPart>(method.supports ?? ['qa', 'text', 'tokens']);
  const leftOut: Partial<Record<ItemPart, number>> = {};
  const kept = { ...split };
  for (const k of ['qa', 'text', 'tokens'] as const) {
    if (!kinds.has(k) && split[k].length > 0) {
      leftOut[k] = split[k].length;
      kept[k] = [];
    }
  }
  return { split: kept, leftOut };
}

/**
 * Split a forget split into `n` requests by subject: subjects (in order of first appearance) are
 * divided into n consecutive groups, and every item goes with its subject. n above the number of
 * subjects is an error (a request would be empty).
 */
export function requestsOf(split: Task['splits']['forget'], n: number): Task['splits']['forget'][] {
  const index = new Map<string, number>();
  for (const item of [...split.qa, ...split.text, ...split.tokens]) {
    const s = subjectOf(item.id);
    if (!index.has(s)) index.set(s, index.size);
  }
  const S = index.size;
  if (n > S) {
    throw new ConfigError(`requests=${n} is more than the ${S} subjects of the forget set`, {
      expected: `requests between 1 and ${S}`,
      hint: "items are grouped by subject (one person's QA and biography form one request)",
    });
  }
  const of = (id: string) => Math.floor((index.get(subjectOf(id))! * n) / S);
  return Array.from({ length: n }, (_, r) => ({
    qa: split.qa.filter((q) => of(q.id) === r),
    text: split.text.filter((t) => of(t.id) === r),
    tokens: split.tokens.filter((t) => of(t.id) === r),
  }));
}

/**
 * Everything about a run that can be checked before a model is touched: the method name, its
 * arguments, the forget items it can use (none left is an error) and the request split.
 */
export function planUnlearn(
  methodName: string,
  task: Task,
  raw: Record<string, unknown> = {},
): {
  method: UnlearnMethod;
  args: Record<string, unknown> & TrainingArgs;
  requests: Task['splits']['forget'][];
  leftOut: Partial<Record<ItemPart, number>>;
} {
  const method = getMethod(methodName);
  const args = resolveArgs(method, raw);
  if (args.lora !== undefined && args.mask !== 'none') {
    throw new ConfigError(`mask=${args.mask} cannot be combined with lora=${args.lora}`, {
      where: `method ${method.name} arguments`,
      hint: 'saliency masks select base weights, which LoRA leaves frozen; use one or the other',
    });
  }
  const { split, leftOut } = supportedForget(method, task.splits.forget);
  if (split.qa.length + split.text.length + split.tokens.length === 0) {
    const kinds = (method.supports ?? []).join(', ');
    throw new DataError(`method ${method.name} can use none of the forget items`, {
      where: `task ${task.name}`,
      expected: `forget items of kind ${kinds}`,
      found: Object.entries(leftOut)
        .map(([k, n]) => `${n} ${k}`)
        .join(', '),
    });
  }
  const requests = method.kind === 'gradient' ? requestsOf(split, args.requests) : [split];
  return { method, args, requests, leftOut };
}

/** Rewrite `logFile` as the part logs, in order, each line tagged with its part (a request, a stage). */
async function mergeLogs(logFile: string, parts: { path: string; tag: object }[]): Promise<void> {
  const lines: string[] = [];
  for (const { path, tag } of parts) {
    if (!existsSync(path)) continue;
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      if (line.trim() === '') continue;
      lines.push(JSON.stringify({ ...tag, ...(JSON.parse(line) as object) }));
    }
  }
  await writeFileAtomic(logFile, lines.map((l) => `${l}\n`).join(''));
}

export async function unlearn(o: UnlearnOptions): Promise<UnlearnResult> {
  const started = performance.now();
  const { method, args, requests, leftOut } = planUnlearn(o.method, o.task, o.args ?? {});
  const log = (m: string) => {
    if (o.progress !== false) process.stderr.write(`${method.name}: ${m}\n`);
  };
  const skipped = Object.entries(leftOut);
  if (skipped.length > 0) {
    log(
      `left out ${skipped.map(([k, n]) => `${n} ${k}`).join(', ')} forget item(s): ` +
        `${method.name} supports ${(method.supports ?? []).join(', ')} items only`,
    );
  }
  const maxLen = args.maxLen ?? o.model.maxPositions;
  const { holdout } = taskExamples(o.tokenizer, o.task, maxLen);
  const results: UnlearnResult['requests'] = [];
  let trainableParameters = 0;
  let transform: InputTransform | null = null;
  const many = requests.length > 1;
  // Each request trains with its own step count, checkpoint folder and log; the logs are merged
  // into one file after every request (a request restarting at step 0 must not truncate it).
  const partLogs = requests.map((_, r) => (o.logFile && many ? `${o.logFile}.request-${r + 1}` : o.logFile));
  for (const [r, split] of requests.entries()) {
    const t0 = performance.now();
    // A weight method's training stages log apart (each train() starts its log at step 0) and are
    // merged into the run's log in the order they began.
    const stages: { path: string; tag: { stage: string } }[] = [];
    const trained = { steps: 0, finalLoss: Number.NaN };
    const trainingStage = (stage: string): TrainingStage => {
      // The name becomes part of a file name (and of the out-folder rules: src/cli/out-folder.ts).
      if (!/^[a-z][a-z0-9-]*$/.test(stage) || stages.some((s) => s.tag.stage === stage)) {
        throw new ConfigError(
          `method ${method.name}: training stage "${stage}" is not a new lower-case name`,
          {
            expected: 'a name like fine-tune, unique within the run',
          },
        );
      }
      const path = o.logFile ? `${o.logFile}.${stage}` : undefined;
      if (path) stages.push({ path, tag: { stage } });
      return {
        logFile: path,
        done: (r) => {
          trained.steps += r.steps;
          trained.finalLoss = r.finalLoss;
        },
      };
    };
    const ctx = buildContext(o, method, args, split, log, trainingStage);
    if (method.kind === 'gradient') {
      const run = await method.start(ctx);
      const label = many ? `${method.name} request ${r + 1}/${requests.length}` : method.name;
      const res = await runGradient(
        {
          ...o,
          logFile: partLogs[r],
          checkpointDir:
            o.checkpointDir && many ? join(o.checkpointDir, `request-${r + 1}`) : o.checkpointDir,
        },
        method,
        run,
        ctx,
        args,
        holdout,
        label,
      );
      if (o.logFile && many) {
        const parts = partLogs.slice(0, r + 1).map((path, i) => ({ path: path!, tag: { request: i + 1 } }));
        await mergeLogs(o.logFile, parts);
      }
      trainableParameters = res.trainableParameters;
      results.push({
        steps: res.steps,
        finalLoss: res.finalLoss,
        seconds: res.seconds,
        stoppedEarly: res.stoppedEarly,
      });
    } else if (method.kind === 'weights') {
      await method.apply(ctx);
      if (o.logFile && stages.length > 0) {
        await mergeLogs(o.logFile, stages);
        for (const { path } of stages) await rm(path, { force: true });
      }
      trainableParameters = o.model.numParameters();
      results.push({
        steps: trained.steps,
        finalLoss: trained.finalLoss,
        seconds: (performance.now() - t0) / 1000,
        stoppedEarly: false,
      });
    } else {
      transform = method.transform(ctx);
      results.push({
        steps: 0,
        finalLoss: Number.NaN,
        seconds: (performance.now() - t0) / 1000,
        stoppedEarly: false,
      });
    }
  }
  if (o.logFile && many) for (const part of partLogs) await rm(part!, { force: true });
  return {
    method: method.name,
    args,
    requests: results,
    leftOut,
    trainableParameters,
    transform,
    seconds: (performance.now() - started) / 1000,
  };
}
