/**
 * The training loop every trainer in lethe uses (pretraining, fine-tuning, unlearning):
 * micro-batches with gradient accumulation, AdamW with decay groups, warmup + schedule, global
 * gradient clipping, parameter selection by name and by element mask, periodic evaluation,
 * atomic checkpoints with exact resume, progress on stderr and a JSONL metric log.
 *
 * Promises: the same seed, data, options and thread count give bit-identical weights, whether the
 * run was interrupted and resumed or not; a non-finite loss or gradient stops the run with a
 * NumericError before any update or checkpoint is written; masked-out weights stay bit-for-bit
 * unchanged (weight decay included).
 */
import { createHash } from 'node:crypto';
import { backend } from '../backend/index.ts';
import { CheckpointError, ConfigError, NumericError } from '../errors.ts';
import type { CausalLM } from '../models/causal-lm.ts';
import { AdamW, clipGradNorm, decayGroups, makeSchedule, type ScheduleSpec, Sophia } from '../nn/index.ts';
import { crossEntropy, IGNORE_INDEX, noGrad, Rng, softmax, Tensor } from '../tensor/index.ts';
import type { Batch, Example } from '../text/batch.ts';
import { checkExamples, epochBatches } from './batching.ts';
import { type CheckpointStore, type Fingerprint, loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { MetricLog, Progress } from './progress.ts';

export interface LossOutput {
  loss: Tensor;
  /** Extra scalars to log (e.g. forget and retain loss). */
  logs?: Record<string, number>;
}

/** Computes the loss of one micro-batch; the default is next-token cross-entropy on scored tokens. */
export type LossFn<B = Batch> = (model: CausalLM, batch: B) => LossOutput;

/**
 * Where micro-batches come from: a fixed number per epoch, each a pure function of (epoch, index),
 * so a resumed run sees exactly the batches an uninterrupted one would.
 */
export interface BatchSource<B extends { tokens: number }> {
  batchesPerEpoch: number;
  batch(epoch: number, index: number): B;
}

/** Batches of examples, reshuffled each epoch by (seed, epoch); one epoch is cached at a time. */
export function exampleSource(
  examples: readonly Example[],
  batchSize: number,
  seed: number,
  opts: { shuffle?: boolean; maxLen?: number } = {},
): BatchSource<Batch> {
  let cache: { epoch: number; batches: Batch[] } | null = null;
  return {
    batchesPerEpoch: Math.ceil(examples.length / batchSize),
    batch(epoch, index) {
      if (cache?.epoch !== epoch)
        cache = { epoch, batches: epochBatches(examples, batchSize, seed, epoch, opts) };
      return cache.batches[index];
    },
  };
}

export const causalLmLoss: LossFn = (model, batch) => {
  const { logits } = model.forward(batch.inputs);
  return { loss: crossEntropy(logits!, batch.targets, { ignoreIndex: IGNORE_INDEX }) };
};

export interface TrainOptions<B = Batch> {
  /** Optimiser steps; or give epochs. */
  steps?: number;
  epochs?: number;
  batchSize: number;
  /** Micro-batches per optimiser step (default 1). The loss of each is divided by this. */
  gradAccum?: number;
  lr: number;
  schedule?: 'constant' | 'linear' | 'cosine';
  warmupSteps?: number;
  minLr?: number;
  weightDecay?: number;
  betas?: [number, number];
  eps?: number;
  /** Global gradient-norm clip (0 = off; default 1). */
  clipNorm?: number;
  seed?: number;
  shuffle?: boolean;
  /** Truncate examples to this many tokens. */
  maxLen?: number;
  /** Only parameters whose HF name passes are trained (default all). */
  trainable?: (name: string) => boolean;
  /** 'sophia': clipped diagonal-Hessian steps (Gauss–Newton–Bartlett estimates every hessianEvery steps). */
  optimizer?: 'adamw' | 'sophia';
  hessianEvery?: number;
  /** The plain token batch a Hessian estimate is taken on (default: the batch itself). */
  curvatureBatch?: (batch: B) => Batch;
  /** Element masks by parameter name (1 = may change, 0 = frozen); other parameters are unmasked. */
  masks?: ReadonlyMap<string, Float32Array>;
  loss?: LossFn<B>;
  evalEvery?: number;
  /** Held-out examples whose mean loss is logged as evalLoss (example data only). */
  evalExamples?: readonly Example[];
  /** Extra evaluation run every evalEvery steps (no gradient); its values are logged. */
  evaluate?: (model: CausalLM, step: number) => Record<string, number>;
  /**
   * Keep the parameters of the best evaluated step (by this logged value) and restore them at
   * the end; the result reports which step that was.
   */
  selectBest?: { metric: string; mode: 'min' | 'max' };
  /** Checkpoint folder; with resume, training continues from it when it holds a checkpoint. */
  checkpointDir?: string;
  checkpointEvery?: number;
  resume?: boolean;
  /**
   * What the trainer cannot see for itself (data file, tokenizer, base model, recipe); stored in
   * each checkpoint with the trainer's own options and seed, and compared on resume.
   */
  fingerprint?: Fingerprint;
  /** Resume even from a checkpoint whose fingerprint differs (an explicit user override). */
  forceResume?: boolean;
  /** How the caller's user spells forceResume (for the error hint), e.g. '--force-resume'. */
  forceResumeHint?: string;
  /** JSONL metric log (appended; truncated to the resumed step on resume). */
  logFile?: string;
  /** Progress lines on stderr (default: true). */
  progress?: boolean;
  label?: string;
  /** Called after each step with its log; return 'stop' to end training early. */
  onStep?: (log: StepLog) => 'stop' | undefined;
}

export interface StepLog {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  seconds: number;
  [key: string]: number;
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  evalLoss: number | null;
  tokens: number;
  seconds: number;
  stoppedEarly: boolean;
  trainableParameters: number;
  /** The step whose parameters were kept when selectBest is set. */
  bestStep?: number;
}

function globalGradNorm(params: readonly Tensor[]): number {
  let sq = 0;
  for (const p of params) if (p.grad) sq += backend.sumSquares(p.grad.f32);
  return Math.sqrt(sq);
}

/**
 * Gauss–Newton–Bartlett diagonal Hessian estimate (Sophia-G): sample targets from the model's own
 * predictions at the scored positions, take the gradient ĝ of their mean cross-entropy, and
 * return N·ĝ² (N = sampled tokens). Existing gradients are left untouched.
 */
function gnbHessian(model: CausalLM, batch: Batch, seed: number, optimizer: Sophia): (Float32Array | null)[] {
  const params = optimizer.parameterList;
  const saved = params.map((p) => p.grad);
  for (const p of params) p.grad = null;
  const logits = model.forward(batch.inputs).logits!;
  const V = model.vocabSize;
  const probs = noGrad(() => softmax(logits)).f32;
  const rng = new Rng(seed);
  const targets = batch.targets.i32.map((t, i) => {
    if (t === IGNORE_INDEX) return IGNORE_INDEX;
    let u = rng.uniform();
    for (let v = 0; v < V; v++) {
      u -= probs[i * V + v];
      if (u <= 0) return v;
    }
    return V - 1;
  });
  const n = targets.filter((t) => t !== IGNORE_INDEX).length;
  crossEntropy(logits, new Tensor(targets, batch.targets.shape), { ignoreIndex: IGNORE_INDEX }).backward();
  const out = params.map((p) => (p.grad ? p.grad.f32.map((g) => n * g * g) : null));
  params.forEach((p, i) => {
    p.grad = saved[i];
  });
  return out;
}

function fail(field: string, expected: string, found: unknown): never {
  throw new ConfigError('invalid training option', { where: field, expected, found: String(found) });
}

function resolve<B>(o: TrainOptions<B>, batchesPerEpoch: number) {
  const gradAccum = o.gradAccum ?? 1;
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) fail('batchSize', 'an integer >= 1', o.batchSize);
  if (!Number.isInteger(gradAccum) || gradAccum < 1) fail('gradAccum', 'an integer >= 1', gradAccum);
  if ((o.steps === undefined) === (o.epochs === undefined))
    fail('steps/epochs', 'exactly one of them', 'both or neither');
  const steps = o.steps ?? Math.ceil(((o.epochs as number) * batchesPerEpoch) / gradAccum);
  if (!Number.isInteger(steps) || steps < 0) fail('steps', 'an integer >= 0', steps);
  const kind = o.schedule ?? 'cosine';
  const warmupSteps = Math.min(o.warmupSteps ?? 0, steps);
  const spec: ScheduleSpec =
    kind === 'constant'
      ? { kind, lr: o.lr, warmupSteps }
      : kind === 'linear'
        ? { kind, lr: o.lr, warmupSteps, totalSteps: Math.max(1, steps) }
        : { kind, lr: o.lr, warmupSteps, totalSteps: Math.max(1, steps), minLr: o.minLr ?? 0 };
  return { gradAccum, steps, schedule: makeSchedule(spec), clipNorm: o.clipNorm ?? 1, seed: o.seed ?? 0 };
}

const sha = (parts: Iterable<string | ArrayBufferView>): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p as string);
  return h.digest('hex').slice(0, 16);
};

/**
 * The run's identity as compared on resume: everything that changes which weights step k
 * produces. Logging cadence (evalEvery, checkpointEvery, progress) is left out on purpose.
 */
function runFingerprint<B>(
  o: TrainOptions<B>,
  r: ReturnType<typeof resolve>,
  data: readonly Example[] | null,
  batchesPerEpoch: number,
  selected: readonly (readonly [string, Tensor])[],
): Fingerprint {
  const fp: Fingerprint = {
    steps: r.steps,
    batchSize: o.batchSize,
    gradAccum: r.gradAccum,
    lr: o.lr,
    schedule: o.schedule ?? 'cosine',
    warmupSteps: o.warmupSteps ?? 0,
    minLr: o.minLr ?? 0,
    weightDecay: o.weightDecay ?? 0,
    betas: JSON.stringify(o.betas ?? null),
    eps: o.eps ?? null,
    clipNorm: r.clipNorm,
    seed: r.seed,
    shuffle: o.shuffle ?? true,
    maxLen: o.maxLen ?? null,
    optimizer: o.optimizer ?? 'adamw',
    hessianEvery: o.optimizer === 'sophia' ? (o.hessianEvery ?? 10) : null,
    batchesPerEpoch,
    trainable: sha(selected.map(([n, t]) => `${n}:${t.shape.join('x')}\n`)),
    masks: o.masks ? sha([...o.masks].flat()) : null,
  };
  if (data) {
    const rows = (function* () {
      for (const e of data) yield `${e.start}:${e.ids.join(',')}\n`;
    })();
    fp.examples = sha(rows);
  }
  return { ...fp, ...o.fingerprint };
}

/** Mean loss over examples (no gradient), in fixed order. */
export function evaluateLoss(
  model: CausalLM,
  examples: readonly Example[],
  batchSize: number,
  loss: LossFn = causalLmLoss,
): number {
  let total = 0;
  let tokens = 0;
  noGrad(() => {
    for (const batch of epochBatches(examples, batchSize, 0, 0, { shuffle: false })) {
      total += loss(model, batch).loss.item() * batch.tokens;
      tokens += batch.tokens;
    }
  });
  return tokens === 0 ? Number.NaN : total / tokens;
}

export async function train<B extends { tokens: number } = Batch>(
  model: CausalLM,
  data: readonly Example[] | BatchSource<B>,
  opts: TrainOptions<B>,
): Promise<TrainResult> {
  let source: BatchSource<B>;
  const arrayData = Array.isArray(data) ? (data as readonly Example[]) : null;
  if (Array.isArray(data)) {
    const examples = data as readonly Example[];
    checkExamples(examples, opts.label ?? 'training data', model.vocabSize);
    if (examples.length === 0) fail('examples', 'at least one training example', 'none');
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
      fail('batchSize', 'an integer >= 1', opts.batchSize);
    source = exampleSource(examples, opts.batchSize, opts.seed ?? 0, opts) as unknown as BatchSource<B>;
  } else source = data as BatchSource<B>;
  const batchesPerEpoch = source.batchesPerEpoch;
  if (!(batchesPerEpoch >= 1)) fail('data', 'at least one batch per epoch', batchesPerEpoch);
  const resolved = resolve(opts, batchesPerEpoch);
  const { gradAccum, steps, schedule, clipNorm, seed } = resolved;
  const lossFn = (opts.loss ?? causalLmLoss) as LossFn<B>;

  // Parameter selection: frozen parameters stop requiring grad for the run.
  const named = model.namedParameters();
  const selected = named.filter(([n]) => opts.trainable?.(n) ?? true);
  if (selected.length === 0) fail('trainable', 'a pattern that selects at least one parameter', 'no match');
  const frozen = named.filter(([n]) => !(opts.trainable?.(n) ?? true));
  for (const [n, t] of named) t.name = n;
  for (const [, t] of frozen) t.requiresGrad = false;
  const masks = [...(opts.masks ?? new Map())].map(([name, mask]) => {
    const hit = selected.find(([n]) => n === name);
    if (!hit) fail(`masks.${name}`, 'the name of a trainable parameter', name);
    if (mask.length !== hit[1].size) fail(`masks.${name}`, `${hit[1].size} values`, mask.length);
    return { param: hit[1], mask };
  });
  const groups = decayGroups(selected, opts.weightDecay ?? 0);
  const optimizer =
    opts.optimizer === 'sophia'
      ? new Sophia(groups, { lr: opts.lr, weightDecay: opts.weightDecay ?? 0 })
      : new AdamW(groups, {
          lr: opts.lr,
          betas: opts.betas,
          eps: opts.eps,
          weightDecay: opts.weightDecay ?? 0,
        });
  const hessianEvery = opts.hessianEvery ?? 10;

  let step = 0;
  let finalLoss = Number.NaN;
  let evalLoss: number | null = null;
  let tokensSeen = 0;
  const store: CheckpointStore | null = opts.checkpointDir ? { dir: opts.checkpointDir } : null;
  const fingerprint = store ? runFingerprint(opts, resolved, arrayData, batchesPerEpoch, selected) : {};
  if (store && opts.resume) {
    const restored = await loadCheckpoint(store, model, optimizer, {
      fingerprint,
      force: opts.forceResume,
      forceHint: opts.forceResumeHint ?? 'forceResume',
    });
    if (restored) {
      // Even a forced resume cannot take back steps already taken.
      if (restored.step > steps) {
        throw new CheckpointError(
          `the checkpoint is at step ${restored.step}, past the ${steps} steps asked for`,
          {
            where: opts.checkpointDir,
            hint: `ask for at least ${restored.step} steps, or use a new output folder`,
          },
        );
      }
      step = restored.step;
      finalLoss = restored.loss ?? Number.NaN;
      evalLoss = restored.evalLoss;
      tokensSeen = restored.tokens ?? 0;
    }
  }
  const log = opts.logFile ? await MetricLog.open(opts.logFile, step) : null;
  const progress = new Progress(opts.label ?? 'train', steps, opts.progress ?? true);
  const started = performance.now();
  let stoppedEarly = false;
  const microBatch = (k: number): B => source.batch(Math.floor(k / batchesPerEpoch), k % batchesPerEpoch);
  let best: { value: number; step: number; params: Float32Array[] } | null = null;

  try {
    model.train();
    while (step < steps) {
      const t0 = performance.now();
      (model as { seedDropout?: (s: number) => void }).seedDropout?.(seed * 7919 + step);
      let lossSum = 0;
      let tokens = 0;
      const extra: Record<string, number> = {};
      for (let a = 0; a < gradAccum; a++) {
        const batch = microBatch(step * gradAccum + a);
        const out = lossFn(model, batch);
        const value = out.loss.item();
        if (!Number.isFinite(value)) {
          throw new NumericError(`the loss became ${value} at step ${step + 1}`, {
            where: opts.label ?? 'training',
            hint: 'lower the learning rate or enable gradient clipping; nothing was saved from this step',
          });
        }
        (gradAccum === 1 ? out.loss : out.loss.mul(1 / gradAccum)).backward();
        lossSum += value / gradAccum;
        tokens += batch.tokens;
        for (const [k, v] of Object.entries(out.logs ?? {})) extra[k] = (extra[k] ?? 0) + v / gradAccum;
      }
      for (const { param, mask } of masks) {
        const g = param.grad?.f32;
        if (g) for (let i = 0; i < g.length; i++) g[i] *= mask[i];
      }
      const params = selected.map(([, t]) => t);
      const gradNorm = clipNorm > 0 ? clipGradNorm(params, clipNorm) : globalGradNorm(params);
      if (!Number.isFinite(gradNorm)) {
        throw new NumericError(`the gradient norm became ${gradNorm} at step ${step + 1}`, {
          where: opts.label ?? 'training',
          hint: 'lower the learning rate; nothing was saved from this step',
        });
      }
      if (optimizer instanceof Sophia && step % hessianEvery === 0) {
        const b = microBatch(step * gradAccum);
        optimizer.updateHessian(
          gnbHessian(
            model,
            opts.curvatureBatch ? opts.curvatureBatch(b) : (b as unknown as Batch),
            seed + step,
            optimizer,
          ),
        );
      }
      const lr = schedule(step);
      optimizer.setLr(lr);
      // Masked-out elements are restored after the update, so decay and momentum cannot move them.
      const frozenValues = masks.map(({ param }) => param.f32.slice());
      noGrad(() => optimizer.step());
      masks.forEach(({ param, mask }, j) => {
        const p = param.f32;
        for (let i = 0; i < p.length; i++) if (mask[i] === 0) p[i] = frozenValues[j][i];
      });
      optimizer.zeroGrad();
      step++;
      finalLoss = lossSum;
      tokensSeen += tokens;
      const entry: StepLog = {
        step,
        loss: lossSum,
        lr,
        gradNorm,
        tokens,
        seconds: (performance.now() - t0) / 1000,
        ...extra,
      };
      if (opts.evalEvery && (step % opts.evalEvery === 0 || step === steps)) {
        model.eval();
        if (opts.evalExamples) {
          evalLoss = evaluateLoss(model, opts.evalExamples, opts.batchSize);
          entry.evalLoss = evalLoss;
        }
        if (opts.evaluate) noGrad(() => Object.assign(entry, opts.evaluate!(model, step)));
        model.train();
        const pick = opts.selectBest;
        const value = pick ? entry[pick.metric] : undefined;
        if (pick && value !== undefined && Number.isFinite(value)) {
          const better = !best || (pick.mode === 'min' ? value < best.value : value > best.value);
          if (better) best = { value, step, params: selected.map(([, t]) => t.f32.slice()) };
        }
      }
      await log?.append(entry);
      progress.update(step, entry);
      if (store && opts.checkpointEvery && (step % opts.checkpointEvery === 0 || step === steps)) {
        await saveCheckpoint(store, model, optimizer, {
          step,
          seed,
          loss: finalLoss,
          evalLoss,
          tokens: tokensSeen,
          fingerprint,
        });
      }
      if (opts.onStep?.(entry) === 'stop') {
        stoppedEarly = true;
        break;
      }
    }
    if (best && best.step !== step) {
      const kept = best;
      selected.forEach(([, t], i) => t.f32.set(kept.params[i]));
    }
  } finally {
    model.eval();
    for (const [, t] of frozen) t.requiresGrad = true;
    progress.done();
    await log?.close();
  }
  return {
    steps: step,
    finalLoss,
    evalLoss,
    tokens: tokensSeen,
    seconds: (performance.now() - started) / 1000,
    stoppedEarly,
    trainableParameters: selected.reduce((n, [, t]) => n + t.size, 0),
    bestStep: (best as { step: number } | null)?.step,
  };
}
